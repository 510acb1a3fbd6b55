// How soon Chromium's EventSource is back after the app process holding
// its stream goes away, behind lighttpd (2 processes): stopped with
// SIGTERM (the app sends "retry: 0" first) vs killed with SIGKILL (the
// stream is cut; the browser waits the "retry: 2000" of the stream's
// start).  The time from the page's error event to its next open event,
// median of ROUNDS.  Prints figures; asserts nothing.
//   SC_BUILD=build node bench/browser_reconnect.mjs   (ROUNDS=5)
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const { startServer, launchBrowser, sleep } = await import(pathToFileURL(path.join(root, 'tests/browser/lib.mjs')));
const ROUNDS = Number(process.env.ROUNDS || 5);
const median = (a) => [...a].sort((x, y) => x - y)[Math.floor(a.length / 2)];

const server = await startServer({ procs: 2 });
const browser = await launchBrowser();
try {
  const page = await browser.newPage();
  await page.goto(`${server.url}/`);
  await page.evaluate(() => {
    window.log = [];
    const es = new EventSource('/stream/list:reconnect');
    es.onopen = () => window.log.push(['open', performance.now()]);
    es.onerror = () => window.log.push(['error', performance.now()]);
  });
  const gap = async (signal) => {
    for (let i = 0; i < 200 && !(await page.evaluate(() => window.log.length && window.log.at(-1)[0] === 'open')); i++) await sleep(25);
    const n = await page.evaluate(() => window.log.length);
    // The process that holds the stream: the one with a connected Unix
    // socket (/proc/net/unix state 03: the stream's FastCGI connection);
    // the other stays to serve the reconnect.
    const connected = new Set(fs.readFileSync('/proc/net/unix', 'utf8').split('\n').slice(1)
      .map((l) => l.trim().split(/\s+/)).filter((f) => f[5] === '03').map((f) => f[6]));
    const holds = (pid) => {
      try {
        return fs.readdirSync(`/proc/${pid}/fd`).some((fd) => {
          const m = fs.readlinkSync(`/proc/${pid}/fd/${fd}`).match(/^socket:\[(\d+)\]$/);
          return m && connected.has(m[1]);
        });
      } catch {
        return false;
      }
    };
    const pid = server.appPids().find(holds);
    if (pid === undefined) return NaN;
    process.kill(pid, signal);
    for (let i = 0; i < 400; i++) {
      const log = await page.evaluate(() => window.log);
      const after = log.slice(n);
      const err = after.find((e) => e[0] === 'error');
      const open = err && after.find((e) => e[0] === 'open' && e[1] > err[1]);
      if (open) return open[1] - err[1];
      await sleep(25);
    }
    return NaN;
  };
  const settle = async () => {
    // Until lighttpd has both processes again.
    for (let i = 0; i < 200 && server.appPids().length < 2; i++) {
      await fetch(`${server.url}/state/list:reconnect`).catch(() => {});
      await sleep(50);
    }
  };
  for (const signal of ['SIGTERM', 'SIGKILL']) {
    const times = [];
    for (let r = 0; r < ROUNDS; r++) {
      await settle();
      times.push(await gap(signal));
    }
    const ok = times.filter((t) => !Number.isNaN(t));
    // A round is lost when no process was found holding the stream or the
    // page saw no error/open pair within 10 s.
    console.log(`${signal.padEnd(8)} error -> open again: median ${ok.length ? median(ok).toFixed(0) : '-'} ms ` +
      `(${ok.map((t) => t.toFixed(0)).join(', ')}; ${ok.length}/${times.length} rounds measured)`);
  }
} finally {
  await browser.close();
  await server.stop();
}
