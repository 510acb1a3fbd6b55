// Optimistic updates in Chromium: click → DOM for the js-framework-
// benchmark operations on 1,000 rows, with and without mutators, with no
// added latency and through a proxy that adds 300 ms to every round trip
// (150 ms each way, the stream included).  The page is
// bench/browser_optimistic.jsx (React + StateChannelProvider) against the
// jsbench app behind lighttpd.
//   node bench/browser_optimistic.mjs BUILD_DIR WWW_DIR   (bench/browser.sh does it)
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
process.env.SC_BUILD = path.resolve(process.argv[2] || 'build');
const www = path.resolve(process.argv[3] || 'optimistic-www');
const { startServer, startDelayProxy, launchBrowser } = await import(pathToFileURL(path.join(root, 'tests/browser/lib.mjs')));
const REPS = Number(process.env.REPS || 5);
const DELAY = 150;

const ops = [
  ['select row', '#tbody tr:nth-child(2) a.lbl'],
  ['swap rows', '#swap'],
  ['partial update (every 10th)', '#update_every_10th'],
  ['remove row', '#tbody tr:nth-child(2) a.remove'],
];

const median = (a) => {
  const s = [...a].sort((x, y) => x - y);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

const server = await startServer({ app: 'jsbench.fcgi', docroot: www, procs: 1, heartbeat: 15 });
const proxy = await startDelayProxy(server.port, DELAY);
const browser = await launchBrowser();
const results = {}; // op → mode → { domMs, frameMs, answerMs }
const modes = [
  ['today (no mutator), +0 ms', server.url, 0],
  ['mutators, +0 ms', server.url, 1],
  ['today (no mutator), +300 ms', proxy.url, 0],
  ['mutators, +300 ms', proxy.url, 1],
];
try {
  for (const [mode, base, mutators] of modes) {
    const page = await browser.newPage();
    page.on('pageerror', (e) => console.error('pageerror:', e.message));
    await page.goto(`${base}/?topic=opt:${mutators}-${base === proxy.url ? 'slow' : 'fast'}-${Date.now()}&mutators=${mutators}`);
    await page.waitForSelector('#meta[data-status="open"]', { timeout: 30000 });
    await page.waitForFunction(() => window.bench && window.bench.store.getState());
    for (let i = 0; i < 2; i++) for (const e of ['create', 'update_every_10th', 'swap']) await page.evaluate((x) => window.bench.run(x), e);
    for (const [name, selector] of ops) {
      const runs = [];
      for (let i = 0; i < REPS; i++) {
        await page.evaluate(() => window.bench.run('create'));
        runs.push(await page.evaluate((s) => window.bench.click(s), selector));
      }
      (results[name] ||= {})[mode] = {
        stateMs: median(runs.map((r) => r.stateMs)),
        domMs: median(runs.map((r) => r.domMs)),
        frameMs: median(runs.map((r) => r.frameMs)),
        answerMs: median(runs.map((r) => r.answerMs)),
      };
    }
    await page.close();
  }
} finally {
  await browser.close();
  await proxy.close();
  await server.stop();
}

console.log(`\noptimistic updates: click → DOM in headless Chromium, React, jsbench app behind lighttpd, 1,000 rows (median of ${REPS})`);
console.log('  state: click until getState() changed; DOM: until the first DOM change of the table (React rendered and committed);');
console.log('  frame: until the animation frame after it; confirmed: until the server\'s change is in the confirmed state and');
console.log('  nothing is pending.  +300 ms: a proxy holds every chunk 150 ms each way.');
console.log('operation'.padEnd(28), ...modes.map(([m]) => m.padStart(34)));
for (const [name, r] of Object.entries(results)) {
  const cell = (x) => `${x.stateMs.toFixed(1)} / ${x.domMs.toFixed(1)} / ${x.frameMs.toFixed(1)} / ${x.answerMs.toFixed(0)}`;
  console.log(name.padEnd(28), ...modes.map(([m]) => cell(r[m]).padStart(34)));
}
console.log('(each cell: state / DOM / frame / confirmed, ms; goal with mutators at +300 ms: DOM <= 16 ms)');
