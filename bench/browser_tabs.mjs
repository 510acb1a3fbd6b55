// Ten tabs of the demo in one headless Chromium against the shopping app
// behind lighttpd over HTTP/1.1: how many are live (show a change made
// from outside within 5 s), how many stream connections the app holds,
// and, with sharing, how long the others take to get a change after the
// first tab (the worker's first client, or the leader) closes.  Three
// ways: every tab its own stream (?share=off, what the client did
// before), the SharedWorker (the default), the leader tab (?share=leader).
//   node bench/browser_tabs.mjs BUILD_DIR      (bench/browser.sh does it)
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
process.env.SC_BUILD = path.resolve(process.argv[2] || 'build');
const { startServer, launchBrowser, postEvent, sleep } = await import(pathToFileURL(path.join(root, 'tests/browser/lib.mjs')));

const server = await startServer({ procs: 2 });
const browser = await launchBrowser();
const sockets = () => server.appSockets();
const idle = sockets();
const rows = [];
try {
  for (const [name, q] of [
    ['one stream per tab (share: false)', '&share=off'],
    ['SharedWorker (default)', ''],
    ['leader tab (?share=leader)', '&share=leader'],
  ]) {
    for (let i = 0; i < 100 && sockets() !== idle; i++) await sleep(100);
    const list = `bench-tabs-${Date.now()}`;
    const context = await browser.newContext();
    const tabs = [];
    for (let i = 0; i < 10; i++) {
      const p = await context.newPage();
      p.goto(`${server.url}/?list=${list}${q}`).catch(() => {});
      tabs.push(p);
    }
    // every tab that can get its stream open within 10 s
    await Promise.all(tabs.map((p) => p.waitForSelector('#status[data-status="open"]', { timeout: 10000 }).catch(() => null)));
    const t0 = Date.now();
    await postEvent(server.url, `list:${list}`, 'add', { name: 'Outside', quantity: 1 });
    const live = await Promise.all(
      tabs.map((p) =>
        p
          .waitForSelector('#items li:has-text("Outside")', { timeout: 5000 })
          .then(() => Date.now() - t0)
          .catch(() => null),
      ),
    );
    const streams = sockets() - idle;
    let takeover = '–';
    if (q !== '&share=off') {
      await tabs[0].close();
      const t1 = Date.now();
      await postEvent(server.url, `list:${list}`, 'add', { name: 'After', quantity: 1 });
      const ms = await Promise.all(tabs.slice(1).map((p) => p.waitForSelector('#items li:has-text("After")', { timeout: 10000 }).then(() => Date.now() - t1)));
      takeover = `${Math.max(...ms)} ms`;
    }
    const ok = live.filter((x) => x !== null);
    rows.push([name, `${ok.length}/10`, ok.length ? `${Math.max(...ok)} ms` : '–', streams, takeover]);
    await context.close();
  }
} finally {
  await browser.close();
  await server.stop();
}
console.log('\n10 tabs of the demo in one Chromium, HTTP/1.1 (6 connections per host)');
console.log('  live: tabs showing a change made from outside within 5 s (slowest of them); streams: sockets the app holds over its idle');
console.log('  count; first tab closed: a change made right after, until all 9 others show it (includes a leader takeover)');
console.log('way'.padEnd(36), 'live'.padStart(6), 'slowest'.padStart(9), 'streams'.padStart(8), 'first tab closed'.padStart(17));
for (const r of rows) console.log(r[0].padEnd(36), r[1].padStart(6), r[2].padStart(9), String(r[3]).padStart(8), r[4].padStart(17));
