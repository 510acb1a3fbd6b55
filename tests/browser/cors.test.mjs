// CORS in Chromium: the page and the StateChannel app on two origins (two
// ports).  The app (lighttpd, --allow-origin PAGE_ORIGIN) lets the allowed
// page read the state, stream it with EventSource withCredentials, and
// post events with credentials: "include"; a page on a third origin,
// not allowed, can do none of it (its POST is refused by the app with 403
// before anything runs, its reads are hidden from it by the browser).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { startServer, launchBrowser, getJSON, freePort, ROOT } from './lib.mjs';

let app;
let browser;
const pages = [];
let allowed;
let refused;

// A static server for one origin: "/" is a page using the client module
// (served by this origin too) against the app on the other origin.
async function pageServer(appUrl, port) {
  const html = `<!doctype html><meta charset="utf-8"><title>cors</title>
<script type="module">
import { createStateChannel, getInitialState } from '/client/src/index.js';
window.sc = { createStateChannel, getInitialState, app: ${JSON.stringify(appUrl)} };
document.title = 'ready';
</script>`;
  const srv = http.createServer((req, res) => {
    const url = new URL(req.url, 'http://x');
    if (url.pathname === '/') {
      res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8' });
      res.end(html);
      return;
    }
    const file = path.join(ROOT, 'client', path.normalize(url.pathname.replace(/^\/client\//, '')));
    if (url.pathname.startsWith('/client/src/') && file.startsWith(path.join(ROOT, 'client')) && fs.existsSync(file)) {
      res.writeHead(200, { 'Content-Type': 'text/javascript; charset=utf-8' });
      res.end(fs.readFileSync(file));
      return;
    }
    res.writeHead(404);
    res.end();
  });
  await new Promise((r) => srv.listen(port, '127.0.0.1', r));
  pages.push(srv);
  return `http://127.0.0.1:${port}`;
}

before(async () => {
  // The app's origin is known once it runs; the pages' ports come first.
  const allowedPort = await freePort();
  app = await startServer({ procs: 1, appArgs: `--allow-origin http://127.0.0.1:${allowedPort}` });
  allowed = await pageServer(app.url, allowedPort);
  refused = await pageServer(app.url, await freePort());
  browser = await launchBrowser();
});

after(async () => {
  if (browser) await browser.close();
  for (const s of pages) s.close();
  if (app) await app.stop();
});

async function open(origin) {
  const page = await browser.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(e.message));
  await page.goto(`${origin}/`);
  await page.waitForFunction(() => document.title === 'ready', null, { timeout: 15000 });
  page.errors = errors;
  return page;
}

test('the allowed origin reads, streams (withCredentials) and posts (credentials: include) across origins', async () => {
  const topic = `list:cors-${process.pid}`;
  const page = await open(allowed);
  try {
    const snap = await page.evaluate((t) => window.sc.getInitialState(window.sc.app, t, { credentials: 'include' }), topic);
    assert.equal(snap.topic, topic);
    const got = await page.evaluate(async (t) => {
      const ch = window.sc.createStateChannel({
        baseUrl: window.sc.app, topic: t, withCredentials: true, credentials: 'include',
      });
      window.ch = ch;
      await new Promise((resolve) => {
        const un = ch.subscribe(() => {
          if (ch.getStatus() === 'open' && ch.getVersion() !== undefined) { un(); resolve(); }
        });
      });
      const answer = await ch.push('add', { name: 'Oat milk', quantity: 1 });
      // The patch arrives on the stream too (the version is confirmed).
      await new Promise((resolve) => {
        if (ch.getVersion() >= answer.version && ch.getPending() === 0) return resolve();
        const un = ch.subscribe(() => {
          if (ch.getVersion() >= answer.version && ch.getPending() === 0) { un(); resolve(); }
        });
      });
      return { version: ch.getVersion(), items: ch.getState().items.map((i) => i.name), status: ch.getStatus() };
    }, topic);
    assert.deepEqual(got, { version: 1, items: ['Oat milk'], status: 'open' });
    // The server has it.
    const s = await getJSON(`${app.url}/state/${topic}`);
    assert.deepEqual(s.state.items.map((i) => i.name), ['Oat milk']);
    // A change made elsewhere streams to the page.
    await fetch(`${app.url}/events/${topic}`, {
      method: 'POST', headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ event: 'add', payload: { name: 'Rye', quantity: 2 } }),
    });
    await page.waitForFunction(() => window.ch.getState().items.length === 2, null, { timeout: 15000 });
    assert.deepEqual(page.errors, []);
  } finally {
    await page.evaluate(() => window.ch && window.ch.close()).catch(() => {});
    await page.close();
  }
});

test('a page on an origin not allowed cannot post (403 before the app runs) nor read', async () => {
  const topic = `list:cors-refused-${process.pid}`;
  const page = await open(refused);
  try {
    const r = await page.evaluate(async (t) => {
      const out = {};
      // A JSON POST needs a preflight, which the app refuses (403): the
      // browser does not send the POST at all.
      try {
        await fetch(`${window.sc.app}/events/${t}`, {
          method: 'POST', credentials: 'include', headers: { 'Content-Type': 'application/json' },
          body: JSON.stringify({ event: 'add', payload: { name: 'x' } }),
        });
        out.post = 'answered';
      } catch (e) {
        out.post = e.name;
      }
      // A text/plain POST needs no preflight: the browser sends it, the
      // app refuses it (415 before the Origin check, 403 otherwise) and
      // the page cannot read the answer.
      try {
        await fetch(`${window.sc.app}/events/${t}`, { method: 'POST', body: '{"event":"add","payload":{"name":"y"}}' });
        out.simple = 'answered';
      } catch (e) {
        out.simple = e.name;
      }
      try {
        await window.sc.getInitialState(window.sc.app, t);
        out.read = 'answered';
      } catch (e) {
        out.read = e.name;
      }
      out.stream = await new Promise((resolve) => {
        const es = new EventSource(`${window.sc.app}/stream/${t}`, { withCredentials: true });
        es.addEventListener('state', () => { es.close(); resolve('state'); });
        es.onerror = () => { es.close(); resolve('error'); };
      });
      return out;
    }, topic);
    assert.deepEqual(r, { post: 'TypeError', simple: 'TypeError', read: 'TypeError', stream: 'error' });
    const s = await getJSON(`${app.url}/state/${topic}`);
    assert.equal(s.version, 0, 'nothing was posted');
  } finally {
    await page.close();
  }
});
