// What the browser tests and the browser benchmark share: a lighttpd in
// front of a StateChannel app on a free port with its own temp database
// (the config is D's deploy/lighttpd template, as `make run` renders it),
// and Debian's chromium driven by playwright-core.
import { spawn, execFileSync } from 'node:child_process';
import fs from 'node:fs';
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
    `CLIENT_DIR=${path.join(ROOT, 'client')}`,
    `HEARTBEAT=${heartbeat}`,
    'STREAM_LIFE=0',
    `APP_ARGS=${appArgs}`,
    'BODY_LIMIT=1048576',
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
