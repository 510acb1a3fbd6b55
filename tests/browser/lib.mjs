// What the browser tests and the browser benchmark share: a lighttpd in
// front of a StateChannel app on a free port with its own temp database
// (the config is D's deploy/lighttpd template, as `make run` renders it),
// and Debian's chromium driven by playwright-core.
import { spawn, execFileSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import assert from 'node:assert/strict';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createRequire } from 'node:module';

import { freePort, waitHttp } from '../integration/lib/servers.js';

const here = path.dirname(fileURLToPath(import.meta.url));
export const ROOT = path.resolve(here, '../..');
export const BUILD = path.resolve(ROOT, process.env.SC_BUILD || 'build');
const require = createRequire(import.meta.url);

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
export { freePort };

const live = new Set();
process.on('exit', () => {
  for (const s of live) s.killSync();
});

// Who lighttpd and the app run as (the template's server.username,
// groupname): lighttpd never runs as root, so as root, www-data (which
// then owns the server's temp dir); else this user.
function runAs() {
  if (process.getuid() === 0) return ['www-data', 'www-data'];
  return [os.userInfo().username, execFileSync('id', ['-gn'], { encoding: 'utf8' }).trim()];
}

/**
 * lighttpd on 127.0.0.1:PORT serving docroot, /client/, and the app's
 * routes at the site root, spawned in its own process group.
 */
export async function startServer({ app = 'shopping.fcgi', docroot, procs = 2, heartbeat = 2, appArgs = '' } = {}) {
  const appPath = path.join(BUILD, app);
  if (!fs.existsSync(appPath)) throw new Error(`no ${appPath}: build it first (make B=${path.relative(ROOT, BUILD)})`);
  const dir = fs.mkdtempSync(path.join(process.env.SC_BROWSER_TMP || os.tmpdir(), 'sc-browser.'));
  fs.chmodSync(dir, 0o755);
  const db = path.join(dir, 'statechannel.db');
  const port = await freePort();
  const conf = execFileSync(path.join(ROOT, 'deploy/render.sh'), [
    path.join(ROOT, 'deploy/lighttpd/statechannel.conf.in'),
    `PORT=${port}`,
    'HOST=127.0.0.1',
    `RUNDIR=${dir}`,
    `APP=${appPath}`,
    `DB=${db}`,
    'PREFIX=/',
    `PROCS=${procs}`,
    `DOCROOT=${docroot || path.join(ROOT, 'examples/shopping/www')}`,
    `CLIENT_DIR=${process.env.SC_CLIENT_DIR || path.join(ROOT, 'client')}`,
    `HEARTBEAT=${heartbeat}`,
    'STREAM_LIFE=0',
    `APP_ARGS=${appArgs}`,
    `USER=${runAs()[0]}`,
    `GROUP=${runAs()[1]}`,
    'BODY_LIMIT=1048576',
    'MAX_STREAMS=2500',
    `ERRORS=${path.join(ROOT, 'deploy/errors')}`,
  ]);
  fs.writeFileSync(path.join(dir, 'lighttpd.conf'), conf);
  const cli = path.join(BUILD, 'statechannel');
  if (fs.existsSync(cli)) {
    try {
      execFileSync(cli, ['--db', db, 'init'], { stdio: 'ignore' });
    } catch {
      /* the app creates the database itself */
    }
  }
  if (process.getuid() === 0) execFileSync('chown', ['-R', 'www-data:www-data', dir]);
  const lighttpd = fs.existsSync('/usr/sbin/lighttpd') ? '/usr/sbin/lighttpd' : 'lighttpd';
  const spawnLighttpd = () => spawn(lighttpd, ['-D', '-f', path.join(dir, 'lighttpd.conf')], { detached: true, stdio: ['ignore', 'inherit', 'inherit'] });
  let child = spawnLighttpd();
  const log = path.join(dir, 'lighttpd-error.log');
  const server = {
    url: `http://127.0.0.1:${port}`,
    port,
    dir,
    db,
    cli,
    pid: child.pid,
    log: () => (fs.existsSync(log) ? fs.readFileSync(log, 'utf8') : ''),
    /** The pids of the app processes lighttpd spawned. */
    appPids() {
      const out = execFileSync('ps', ['-o', 'pid=,args=', '--ppid', String(child.pid)], { encoding: 'utf8' }).trim();
      return out
        .split('\n')
        .filter((l) => l.includes(app))
        .map((l) => Number(l.trim().split(/\s+/)[0]))
        .filter(Boolean);
    },
    /** The sockets the app processes hold (their listening socket
     *  included): one more per open stream. */
    appSockets() {
      let n = 0;
      for (const pid of server.appPids()) {
        let fds = [];
        try {
          fds = fs.readdirSync(`/proc/${pid}/fd`);
        } catch {
          continue; // the process is gone
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
    /** Kills lighttpd and its apps (SIGKILL), runs between() (the server
     *  is down: change the database, remove it), and starts it again on
     *  the same port and config. */
    async restart(between = async () => {}) {
      const old = child;
      try {
        process.kill(-old.pid, 'SIGKILL');
      } catch {
        /* gone */
      }
      for (let i = 0; i < 100 && old.exitCode === null && old.signalCode === null; i++) await sleep(50);
      await between();
      child = spawnLighttpd();
      server.pid = child.pid;
      await waitHttp(port, log, child);
    },
    killSync() {
      try {
        process.kill(-child.pid, 'SIGKILL');
      } catch {
        /* gone */
      }
      live.delete(server);
    },
    async stop() {
      try {
        process.kill(-child.pid, 'SIGTERM');
      } catch {
        /* gone */
      }
      for (let i = 0; i < 50 && child.exitCode === null; i++) await sleep(100);
      server.killSync();
      if (!process.env.SC_BROWSER_KEEP) fs.rmSync(dir, { recursive: true, force: true });
    },
  };
  live.add(server);
  await waitHttp(port, log, child);
  return server;
}

export const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';

/** Debian's chromium, headless, through playwright-core. */
export async function launchBrowser() {
  const { chromium } = require('playwright-core');
  // launch() gives chromium a fresh temporary --user-data-dir of its own
  // (and refuses one in args).
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--disable-dev-shm-usage',
    ],
  });
  return browser;
}

export async function getJSON(url, init) {
  const r = await fetch(url, init);
  const body = await r.json();
  if (!r.ok) throw new Error(`${url}: ${r.status} ${JSON.stringify(body)}`);
  return body;
}

export async function postEvent(base, topic, event, payload, id) {
  return getJSON(`${base}/events/${topic}`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ event, payload, ...(id ? { id } : {}) }),
  });
}

/**
 * A TCP proxy on 127.0.0.1 in front of targetPort that holds every chunk
 * `delay` ms in each direction (order kept): the network of a user far
 * away, round trip + 2 * delay.  { url, port, close() }.
 */
export async function startDelayProxy(targetPort, delay) {
  const sockets = new Set();
  const pipe = (from, to) => {
    from.on('data', (chunk) => setTimeout(() => to.destroyed || to.write(chunk), delay));
    from.on('end', () => setTimeout(() => to.destroyed || to.end(), delay));
  };
  const server = net.createServer((client) => {
    const upstream = net.connect(targetPort, '127.0.0.1');
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.setNoDelay(true);
      s.on('error', () => {
        client.destroy();
        upstream.destroy();
      });
      s.on('close', () => sockets.delete(s));
    }
    pipe(client, upstream);
    pipe(upstream, client);
  });
  const port = await freePort();
  await new Promise((resolve) => server.listen(port, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    close() {
      for (const s of sockets) s.destroy();
      return new Promise((resolve) => server.close(resolve));
    },
  };
}

// ---- the shopping demo page (examples/shopping/www) ----

// Every renderer of examples/shopping/www (plain DOM, Solid,
// <state-channel>, Vue) has the same ids and classes: these helpers
// drive them all.

/** A list name of its own for a test: NAME-PID-NOW. */
export const uniq = (name) => `${name}-${process.pid}-${Date.now()}`;

/** A new page of the demo at base (PAGE, e.g. "solid.html"; "" the plain
 *  one; ?list=list), once its stream is open. */
export async function openList(browser, base, list, page = '') {
  const p = await browser.newPage();
  p.on('pageerror', (e) => console.error('pageerror:', e.message));
  await p.goto(`${base}/${page}?list=${list}`);
  await p.waitForSelector('#status[data-status="open"]', { timeout: 20000 });
  return p;
}

/** Adds an item through the page's form. */
export async function add(page, name, quantity) {
  await page.fill('#add-name', name);
  await page.fill('#add-quantity', String(quantity));
  await page.click('#add-button');
}

/** What the demo page shows: [{id, name, quantity, bought}] in order. */
export function shownItems(page) {
  return page.$$eval('#items li', (lis) =>
    lis.map((li) => ({
      id: li.dataset.id,
      name: li.querySelector('.name')?.textContent,
      quantity: Number(li.querySelector('.qty').textContent.replace(/[^0-9]/g, '')),
      bought: li.querySelector('.toggle').checked,
    })),
  );
}

/** The server's items of list:LIST, in the same shape. */
export async function serverItems(base, list) {
  const s = await getJSON(`${base}/state/list:${list}`);
  return s.state.items.map(({ id, name, quantity, bought }) => ({ id, name, quantity, bought }));
}

/** Waits until the page shows exactly the server's items (asserts at the end). */
export async function converges(page, base, list, ms = 20000) {
  const end = Date.now() + ms;
  let a;
  let b;
  while (Date.now() < end) {
    a = await shownItems(page);
    b = await serverItems(base, list);
    if (JSON.stringify(a) === JSON.stringify(b)) return a;
    await sleep(100);
  }
  assert.deepEqual(a, b, 'the page does not show the server state');
  return a;
}
