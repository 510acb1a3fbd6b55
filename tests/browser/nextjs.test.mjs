// The Next.js example (examples/nextjs) against the real FastCGI app: its
// server-rendered HTML already holds the items; after hydration it is live
// (a change made elsewhere appears; an event from it reaches the server).
// SKIP_NEXT=1 skips this file (the build takes a minute on a small machine).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { startServer, startDelayProxy, launchBrowser, getJSON, postEvent, freePort, sleep, ROOT } from './lib.mjs';

const dir = path.join(ROOT, 'examples/nextjs');
const skip = process.env.SKIP_NEXT ? 'SKIP_NEXT is set' : false;
let server;
let proxy;
let browser;
let next;
let nextUrl;

before(async () => {
  if (skip) return;
  server = await startServer({ procs: 2 });
  // Next.js reaches the app through a proxy that adds 300 ms to every
  // round trip: the page's optimistic updates must not wait for it.
  proxy = await startDelayProxy(server.port, 150);
  // The example installs the client as a copy (install-links, as users
  // get it): install again when that copy is not the client of this tree.
  const copy = path.join(dir, 'node_modules/statechannel-client/src');
  const src = path.join(ROOT, 'client/src');
  const stale = !fs.existsSync(copy) || fs.readdirSync(src).some((f) => {
    const there = path.join(copy, f);
    return !fs.existsSync(there) || !fs.readFileSync(there).equals(fs.readFileSync(path.join(src, f)));
  });
  if (stale || !fs.existsSync(path.join(dir, 'node_modules/.bin/next'))) {
    execFileSync('npm', ['ci', '--no-audit', '--no-fund', '--loglevel=error'], { cwd: dir, stdio: 'inherit' });
  }
  const env = { ...process.env, STATECHANNEL_URL: proxy.url, NEXT_TELEMETRY_DISABLED: '1' };
  const nextBin = path.join(dir, 'node_modules/next/dist/bin/next');
  // The rewrites to the app are fixed at build time: build for this server.
  execFileSync(process.execPath, [nextBin, 'build'], { cwd: dir, env, stdio: ['ignore', 'ignore', 'inherit'] });
  const port = await freePort();
  nextUrl = `http://127.0.0.1:${port}`;
  next = spawn(process.execPath, [nextBin, 'start', '-p', String(port), '-H', '127.0.0.1'], { cwd: dir, env, stdio: ['ignore', 'pipe', 'inherit'] });
  await new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error('next start: not ready in 60 s')), 60000);
    next.stdout.on('data', (d) => /Ready|Local:/i.test(String(d)) && (clearTimeout(t), resolve()));
    next.on('exit', (c) => reject(new Error(`next start exited ${c}`)));
  });
  browser = await launchBrowser();
});

after(async () => {
  if (browser) await browser.close();
  if (next) next.kill('SIGTERM');
  if (proxy) await proxy.close();
  if (server) await server.stop();
});

test('Next.js: the server-rendered HTML holds the items; the hydrated page is live', { skip }, async () => {
  const list = `next-${process.pid}-${Date.now()}`;
  const topic = `list:${list}`;
  await postEvent(server.url, topic, 'add', { name: 'Oat milk', quantity: 2 });
  await postEvent(server.url, topic, 'add', { name: 'Rye bread', quantity: 1 });

  const r = await fetch(`${nextUrl}/?list=${list}`);
  assert.equal(r.status, 200);
  const html = await r.text();
  assert.match(html, /<li data-id="[^"]+"[^>]*>.*?Oat milk.*?× <!-- -->2/s, 'the first item is in the HTML');
  assert.match(html, /Rye bread/);

  // JavaScript only after the HTML is there: the items were server-rendered
  const page = await browser.newPage();
  page.on('pageerror', (e) => console.error('pageerror:', e.message));
  await page.goto(`${nextUrl}/?list=${list}`);
  await page.waitForSelector('#status[data-status="open"]', { timeout: 20000 });
  assert.deepEqual(await page.$$eval('#items li .name', (els) => els.map((e) => e.textContent)), ['Oat milk', 'Rye bread']);

  // live: a change made elsewhere shows; one made here reaches the server
  await postEvent(server.url, topic, 'add', { name: 'Plums', quantity: 7 });
  await page.waitForSelector('#items li:has-text("Plums")', { timeout: 10000 });
  await page.fill('#add-name', 'Honey');
  await page.fill('#add-quantity', '1');
  // shown right after the click's own rendering, while its POST is on its way
  const now = await page.evaluate(async () => {
    document.querySelector('button[type=submit]').click();
    await Promise.resolve();
    await Promise.resolve();
    return {
      names: [...document.querySelectorAll('#items li .name')].map((e) => e.textContent),
      sending: document.querySelector('#pending')?.textContent,
    };
  });
  assert.deepEqual(now.names, ['Oat milk', 'Rye bread', 'Plums', 'Honey']);
  assert.match(now.sending || '', /sending 1/);
  await page.waitForSelector('#pending', { state: 'detached', timeout: 10000 });
  await page.click('#items li:has-text("Oat milk") .toggle');
  await page.waitForSelector('#items li.bought:has-text("Oat milk")', { timeout: 10000 });
  // the server's 422 reason
  await page.fill('#add-name', ' ');
  await page.click('button[type=submit]');
  await page.waitForSelector('#error', { timeout: 10000 });
  assert.equal(await page.textContent('#error'), 'the name is empty');
  assert.equal(await page.$$eval('#items li', (l) => l.length), 4, 'the refused item rolled back');

  const st = await getJSON(`${server.url}/state/${topic}`);
  for (let i = 0; i < 50; i++) {
    const shown = await page.$$eval('#items li .name', (els) => els.map((e) => e.textContent));
    if (JSON.stringify(shown) === JSON.stringify(st.state.items.map((x) => x.name))) break;
    await sleep(100);
  }
  assert.deepEqual(
    await page.$$eval('#items li .name', (els) => els.map((e) => e.textContent)),
    st.state.items.map((x) => x.name),
  );
  assert.deepEqual(st.state.items.map((x) => x.name), ['Oat milk', 'Rye bread', 'Plums', 'Honey']);
  await page.close();
});
