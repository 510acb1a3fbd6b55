// HTTPS and HTTP/2 (the TLS variants of deploy/, docs/deploy.md "HTTPS and
// HTTP/2"), each with a self-signed certificate this file makes.
//
// In Chromium, behind nginx (the demo page) and Apache mod_fcgid (a page
// of one channel): ten tabs with sharing turned off (each tab a stream of
// its own) are all live over HTTP/2, one connection for the browser,
// where over HTTP/1.1 the seventh tab on stalls (6 connections per host);
// a fetch and a push from the tenth answer, and behind nginx the app
// holds 10 stream connections.
//
// With node's HTTP/2 client, every variant (nginx, Apache mod_proxy_fcgi
// and mod_fcgid, lighttpd): ALPN chooses h2, the server's concurrent-stream
// limit is the one docs/deploy.md gives, and 10 streams on one connection
// (7 on lighttpd, whose limit is 8) all carry a change made from outside
// while a GET beside them answers.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, execFileSync } from 'node:child_process';
import fs from 'node:fs';
import http2 from 'node:http2';
import os from 'node:os';
import path from 'node:path';

import { ROOT, BUILD, launchBrowser, postEvent, sleep, freePort } from './lib.mjs';
import { render, waitHttp, appPids, pidsMentioning } from '../integration/lib/servers.js';

const APP = path.join(BUILD, 'shopping.fcgi');
const DOCROOT = path.join(ROOT, 'examples/shopping/www');
const ERRORS = path.join(ROOT, 'deploy/errors');
const CLIENT_DIR = process.env.SC_CLIENT_DIR || path.join(ROOT, 'client');
const HEARTBEAT = 2;
const asRoot = process.getuid() === 0;
// Who Apache and lighttpd run as (they refuse root, or drop it).
const USER = asRoot ? 'www-data' : os.userInfo().username;
const GROUP = asRoot ? 'www-data' : execFileSync('id', ['-gn'], { encoding: 'utf8' }).trim();

// ---- servers: a temp dir each, everything in it, one process group per
// process started (all killed on the way out) ----

const live = new Set();
process.on('exit', () => {
  for (const s of live) s.killSync();
});

function tempDir(kind) {
  const dir = fs.mkdtempSync(path.join(process.env.SC_BROWSER_TMP || os.tmpdir(), `sc-${kind}.`));
  fs.chmodSync(dir, 0o755); // the servers' workers reach the app's socket in it
  return dir;
}

/** A self-signed certificate for localhost and 127.0.0.1 in dir. */
function selfSigned(dir) {
  const cert = path.join(dir, 'cert.pem');
  const key = path.join(dir, 'key.pem');
  execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1',
    '-keyout', key, '-out', cert, '-subj', '/CN=localhost',
    '-addext', 'subjectAltName=DNS:localhost,IP:127.0.0.1',
    '-addext', 'basicConstraints=critical,CA:FALSE'], { stdio: 'ignore' });
  return { CERT: cert, KEY: key };
}

function newServer(kind) {
  const dir = tempDir(kind);
  const s = {
    kind,
    dir,
    db: path.join(dir, 'statechannel.db'),
    children: [],
    spawn(cmd, args, logName) {
      const fd = fs.openSync(path.join(dir, logName), 'a');
      const child = spawn(cmd, args, { cwd: dir, detached: true, stdio: ['ignore', fd, fd] });
      fs.closeSync(fd);
      s.children.push(child);
      return child;
    },
    write(name, template, vars) {
      const file = path.join(dir, name);
      fs.writeFileSync(file, render(template, vars));
      return file;
    },
    logs() {
      return fs.readdirSync(dir).filter((f) => f.endsWith('.log'))
        .map((f) => `--- ${f}\n${fs.readFileSync(path.join(dir, f), 'utf8').slice(-3000)}`).join('\n');
    },
    /** The sockets the app processes hold (listening ones included). */
    appSockets() {
      let n = 0;
      for (const pid of appPids(dir, APP)) {
        let fds = [];
        try {
          fds = fs.readdirSync(`/proc/${pid}/fd`);
        } catch {
          continue;
        }
        for (const fd of fds) {
          try {
            if (fs.readlinkSync(`/proc/${pid}/fd/${fd}`).startsWith('socket:')) n++;
          } catch {
            /* closed meanwhile */
          }
        }
      }
      return n;
    },
    killSync() {
      for (const c of s.children) {
        try {
          process.kill(-c.pid, 'SIGKILL');
        } catch {
          /* gone */
        }
      }
      for (const pid of pidsMentioning(dir)) {
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          /* gone */
        }
      }
      live.delete(s);
    },
    async stop() {
      for (const c of s.children) {
        try {
          process.kill(-c.pid, 'SIGTERM');
        } catch {
          /* gone */
        }
      }
      for (let i = 0; i < 50 && s.children.some((c) => c.exitCode === null && c.signalCode === null); i++) await sleep(100);
      s.killSync();
      if (!process.env.SC_BROWSER_KEEP) fs.rmSync(dir, { recursive: true, force: true });
    },
  };
  live.add(s);
  return s;
}

/** The app on its own socket in s.dir (for nginx and mod_proxy_fcgi). */
async function listeningApp(s) {
  const sock = path.join(s.dir, 'app.sock');
  const child = s.spawn(APP, ['--db', s.db, '--listen', sock, '--heartbeat', String(HEARTBEAT)], 'app.log');
  for (let i = 0; i < 200 && !fs.existsSync(sock); i++) {
    if (child.exitCode !== null) break;
    await sleep(25);
  }
  if (!fs.existsSync(sock)) throw new Error(`the app did not start:\n${s.logs()}`);
  return sock;
}

async function ports(s) {
  s.port = await freePort();
  s.tlsPort = await freePort();
  s.plain = `http://127.0.0.1:${s.port}`; // for changes made from outside
  s.tls = `https://127.0.0.1:${s.tlsPort}`;
}

/** nginx, deploy/nginx/statechannel-tls.conf.in: the page, /client/ and
 *  the app's routes at "/". */
async function startNginxTls() {
  const s = newServer('nginx-tls');
  await ports(s);
  const sock = await listeningApp(s);
  const conf = s.write('nginx.conf', 'deploy/nginx/statechannel-tls.conf.in', {
    HOST: '127.0.0.1', PORT: s.port, TLS_PORT: s.tlsPort, ...selfSigned(s.dir), RUNDIR: s.dir,
    SOCKET: sock, PREFIX: '/', TIMEOUT: 60, DOCROOT, CLIENT_DIR, ERRORS,
  });
  const child = s.spawn('/usr/sbin/nginx', ['-p', s.dir, '-c', conf], 'nginx.log');
  await waitHttp(s.tlsPort, path.join(s.dir, 'error.log'), child);
  s.prefix = '/';
  return s;
}

/** Apache, deploy/apache/tls.conf.in around proxy_fcgi.conf.in or
 *  fcgid.conf.in; the app's routes at /app/. */
async function startApacheTls(site) {
  const s = newServer(`apache-${site}-tls`);
  await ports(s);
  if (asRoot) execFileSync('chown', ['-R', `${USER}:${GROUP}`, s.dir]);
  const common = { HOST: '127.0.0.1', PORT: s.port, RUNDIR: s.dir, USER, GROUP, PREFIX: '/app', ERRORS };
  const siteConf = site === 'proxy_fcgi'
    ? s.write('site.conf', 'deploy/apache/proxy_fcgi.conf.in', { ...common, SOCKET: await listeningApp(s), TIMEOUT: 60 })
    : s.write('site.conf', 'deploy/apache/fcgid.conf.in', {
      ...common, APP, DB: s.db, PROCS: 16, HEARTBEAT, STREAM_LIFE: 0, BODY_LIMIT: 1048576,
      DOCROOT: s.dir, CLIENT_DIR,
    });
  const conf = s.write('httpd.conf', 'deploy/apache/tls.conf.in', {
    SITE_CONF: siteConf, HOST: '127.0.0.1', TLS_PORT: s.tlsPort, RUNDIR: s.dir, ...selfSigned(s.dir),
  });
  if (asRoot) execFileSync('chown', ['-R', `${USER}:${GROUP}`, s.dir]);
  const child = s.spawn('/usr/sbin/apache2', ['-DFOREGROUND', '-f', conf], 'apache.log');
  await waitHttp(s.tlsPort, path.join(s.dir, 'error.log'), child);
  s.prefix = '/app/';
  return s;
}

/** lighttpd, deploy/lighttpd/tls.conf.in around statechannel.conf.in (the
 *  app spawned by lighttpd); the routes at "/". */
async function startLighttpdTls() {
  const s = newServer('lighttpd-tls');
  await ports(s);
  const siteConf = s.write('site.conf', 'deploy/lighttpd/statechannel.conf.in', {
    PORT: s.port, HOST: '127.0.0.1', RUNDIR: s.dir, APP, DB: s.db, PREFIX: '/', PROCS: 1,
    DOCROOT, CLIENT_DIR, HEARTBEAT, STREAM_LIFE: 0, BODY_LIMIT: 1048576, MAX_STREAMS: 2500,
    ERRORS, USER, GROUP, APP_ARGS: '',
  });
  const conf = s.write('lighttpd.conf', 'deploy/lighttpd/tls.conf.in', {
    SITE_CONF: siteConf, HOST: '127.0.0.1', TLS_PORT: s.tlsPort, ...selfSigned(s.dir),
  });
  if (asRoot) execFileSync('chown', ['-R', `${USER}:${GROUP}`, s.dir]);
  const child = s.spawn('/usr/sbin/lighttpd', ['-D', '-f', conf], 'lighttpd.log');
  await waitHttp(s.tlsPort, path.join(s.dir, 'lighttpd-error.log'), child);
  s.prefix = '/';
  return s;
}

/** The same count twice in a row, 200 ms apart (short requests end). */
async function settled(count) {
  let prev = -1;
  for (;;) {
    const n = count();
    if (n === prev) return n;
    prev = n;
    await sleep(200);
  }
}

/** The TCP connections established to port on this host (the server's
 *  side: /proc/net/tcp and tcp6, local port, state 01). */
function connectionsTo(port) {
  const hex = port.toString(16).toUpperCase().padStart(4, '0');
  let n = 0;
  for (const f of ['/proc/net/tcp', '/proc/net/tcp6']) {
    let lines = [];
    try {
      lines = fs.readFileSync(f, 'utf8').split('\n').slice(1);
    } catch {
      continue; // no IPv6
    }
    for (const l of lines) {
      const [, local, , state] = l.trim().split(/\s+/);
      if (local && local.endsWith(`:${hex}`) && state === '01') n++;
    }
  }
  return n;
}

// ---- Chromium, 10 tabs, no sharing, over HTTP/2 ----

// Apache mod_fcgid's site serves DOCROOT and the client next to the app at
// /app: a page of one channel there, without sharing.
const FCGID_PAGE = `<!doctype html><meta charset="utf-8"><title>h2</title>
<script type="module">
import { createStateChannel } from '/client/src/index.js';
const topic = new URLSearchParams(location.search).get('topic');
window.statechannel = createStateChannel({ baseUrl: '/app', topic, share: false });
</script>
`;

const names = (page) => page.evaluate(() => (window.statechannel.getState()?.items || []).map((i) => i.name));

for (const [name, start, pageUrl, api, countStreams] of [
  // the demo page (share=off: each tab a stream of its own)
  ['nginx, the demo page', startNginxTls, (s, list) => `${s.tls}/?list=${list}&share=off`, '', true],
  ['Apache mod_fcgid', async () => {
    const s = await startApacheTls('fcgid');
    fs.writeFileSync(path.join(s.dir, 'page.html'), FCGID_PAGE);
    fs.chmodSync(path.join(s.dir, 'page.html'), 0o644);
    return s;
  }, (s, list) => `${s.tls}/page.html?topic=list:${list}`, '/app', false],
]) {
  test(`Chromium, ${name}: 10 tabs without sharing all live over h2, the tenth answers${countStreams ? ', 10 streams at the app' : ''}`, async () => {
    const server = await start();
    const browser = await launchBrowser();
    try {
      const list = `h2-${process.pid}-${Date.now()}`;
      const topic = `list:${list}`;
      const plainApi = `${server.plain}${api}`;
      await postEvent(plainApi, topic, 'add', { name: 'First', quantity: 1 });
      const base = await settled(() => server.appSockets());
      // The certificate is self-signed: this context trusts it.
      const context = await browser.newContext({ ignoreHTTPSErrors: true });
      const tabs = [];
      for (let i = 0; i < 10; i++) {
        const page = await context.newPage();
        page.on('pageerror', (e) => console.error('pageerror:', e.message));
        await page.goto(pageUrl(server, list));
        await page.waitForFunction(() => window.statechannel?.status === 'open', null, { timeout: 20000 });
        tabs.push(page);
      }
      for (const t of tabs) {
        assert.equal(
          await t.evaluate(() => performance.getEntriesByType('navigation')[0].nextHopProtocol),
          'h2',
          'the page came over HTTP/2',
        );
        assert.deepEqual(await names(t), ['First']);
      }
      const conns = connectionsTo(server.tlsPort);
      console.log(`# h2, ${name}: the browser holds ${conns} TLS connection(s) to the server with 10 tabs open`);
      // One HTTP/2 connection carries every tab (Chromium may keep a
      // second one apart for requests without credentials).
      assert.ok(conns >= 1 && conns <= 2, `the browser's connections to the server: ${conns}`);

      if (countStreams) {
        // every tab holds a stream of its own: 10 more connections at the app
        const held = (await settled(() => server.appSockets())) - base;
        console.log(`# h2, ${name}: the app holds ${held} more socket(s) with 10 tabs open`);
        assert.equal(held, 10, 'one stream connection per tab');
      }

      // a change from outside shows in every tab
      const t0 = Date.now();
      await postEvent(plainApi, topic, 'add', { name: 'Outside', quantity: 2 });
      await Promise.all(tabs.map((t) => t.waitForFunction(
        () => window.statechannel.getState().items.some((i) => i.name === 'Outside'), null, { timeout: 10000 })));
      console.log(`# h2, ${name}: a change from outside in all 10 tabs (no sharing) after ${Date.now() - t0} ms`);

      // the tenth tab's own requests get through, over h2 as well
      const answer = await tabs[9].evaluate(async (url) => {
        const c = new AbortController();
        const timer = setTimeout(() => c.abort(), 5000);
        const r = await fetch(url, { signal: c.signal, cache: 'no-store' });
        const body = await r.json();
        clearTimeout(timer);
        const entry = performance.getEntriesByType('resource').filter((e) => e.name.endsWith(url)).at(-1);
        return { status: r.status, items: body.state.items.length, protocol: entry?.nextHopProtocol };
      }, `${api}/state/${topic}`);
      assert.deepEqual(answer, { status: 200, items: 2, protocol: 'h2' }, 'a fetch from the tenth tab answers over h2');
      // and its push reaches the first
      await tabs[9].evaluate(() => window.statechannel.push('add', { name: 'From the tenth', quantity: 1 }));
      await tabs[0].waitForFunction(
        () => window.statechannel.getState().items.some((i) => i.name === 'From the tenth'), null, { timeout: 10000 });
      await context.close();
    } catch (e) {
      e.message += `\n${server.logs()}`;
      throw e;
    } finally {
      await browser.close();
      await server.stop();
    }
  });
}

// ---- node's HTTP/2 client against every TLS variant ----

/** One request on session; resolves to {status, text} (rejects after
 *  10 s without an answer). */
function request(session, pathName) {
  return new Promise((resolve, reject) => {
    const req = session.request({ ':path': pathName });
    req.setTimeout(10000, () => {
      req.close();
      reject(new Error(`${pathName}: no answer in 10 s`));
    });
    let text = '';
    let status = 0;
    req.setEncoding('utf8');
    req.on('response', (h) => {
      status = h[':status'];
    });
    req.on('data', (d) => {
      text += d;
    });
    req.on('end', () => resolve({ status, text }));
    req.on('error', reject);
    req.end();
  });
}

/** Opens n streams of topic on one HTTP/2 session, one after the other
 *  as tabs do (mod_fcgid spawns a process for each); each collects its
 *  text.  Resolves once each has its first event (the snapshot). */
async function openStreams(session, pathName, n) {
  const streams = [];
  const live = () => streams.filter((st) => st.text.includes('data:')).length;
  for (let i = 0; i < n; i++) {
    const req = session.request({ ':path': pathName, accept: 'text/event-stream' });
    const st = { req, text: '', status: 0 };
    req.setEncoding('utf8');
    req.on('response', (h) => {
      st.status = h[':status'];
    });
    req.on('data', (d) => {
      st.text += d;
    });
    req.on('error', () => {});
    streams.push(st);
    // mod_fcgid starts a process for each (its process manager, slow
    // on a loaded machine: a CI run saw one wait past 15 s).
    await until(() => live() === streams.length, 40000, () =>
      `streams with data: ${live()} of ${streams.length} (statuses ${streams.map((x) => x.status)}): ${st.text.slice(0, 200)}`);
  }
  return streams;
}

async function until(cond, ms, why) {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (cond()) return;
    await sleep(50);
  }
  assert.fail(`timed out: ${why()}`);
}

for (const [name, start, limit] of [
  ['nginx', startNginxTls, 128],
  ['Apache mod_proxy_fcgi', () => startApacheTls('proxy_fcgi'), 100],
  ['Apache mod_fcgid', () => startApacheTls('fcgid'), 100],
  ['lighttpd', startLighttpdTls, 8],
]) {
  // streams on one connection, leaving room for a GET beside them
  const n = Math.min(limit - 1, 10);
  test(`${name} over TLS: h2 by ALPN, ${limit} concurrent streams a connection, ${n} streams on one connection all live, a GET beside them answers`, async () => {
    const s = await start();
    let session;
    try {
      session = http2.connect(s.tls, { rejectUnauthorized: false });
      session.on('error', () => {});
      const settings = await new Promise((resolve, reject) => {
        session.once('remoteSettings', resolve);
        session.once('error', reject);
      });
      assert.equal(session.alpnProtocol, 'h2');
      assert.equal(settings.maxConcurrentStreams, limit, 'the server\'s concurrent-stream limit');

      const topic = `list:h2-${s.kind}-${process.pid}`;
      const plainBase = `${s.plain}${s.prefix.slice(0, -1)}`;
      await postEvent(plainBase, topic, 'add', { name: 'First', quantity: 1 });
      // The short requests of a page load first (its document, scripts,
      // state): Apache's mod_http2 processes 6 requests of a new
      // connection at a time and doubles that as requests complete
      // (docs/deploy.md, "HTTPS and HTTP/2").
      // mod_http2 doubles the limit when a request completes 100 ms or
      // more after its last change, or after more completions than the
      // limit: both, here (8 back to back sometimes left it at 6).
      for (let i = 0; i < 8; i++) {
        assert.equal((await request(session, `${s.prefix}state/${topic}`)).status, 200);
        await sleep(120);
      }
      const streams = await openStreams(session, `${s.prefix}stream/${topic}`, n);
      for (const st of streams) assert.equal(st.status, 200);
      const state = await request(session, `${s.prefix}state/${topic}`);
      assert.equal(state.status, 200, 'a GET beside the streams answers');
      assert.match(state.text, /"First"/);
      await postEvent(plainBase, topic, 'add', { name: 'Outside', quantity: 2 });
      await until(() => streams.every((st) => st.text.includes('Outside')), 10000, () =>
        `streams with the change: ${streams.filter((st) => st.text.includes('Outside')).length} of ${n}`);
      for (const st of streams) st.req.close();
    } catch (e) {
      e.message += `\n${s.logs()}`;
      throw e;
    } finally {
      if (session) session.destroy();
      await s.stop();
    }
  });
}
