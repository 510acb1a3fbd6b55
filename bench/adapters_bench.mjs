// Solid against React on the same page (examples/jsbench/www/compare.jsx)
// and the same data: the js-framework-benchmark operations as events to
// the jsbench app behind lighttpd, in headless Chromium; for each, the
// time from the patch frame's arrival (the EventSource event) to the DOM
// showing it, stream path only.  Prints, for both frameworks of the same
// run, the median and the lower quartile of the samples, and Solid ÷ React
// of each: the machine is shared, and the lower quartile is the figure
// least moved by another process taking the core for part of a frame.
// The page is served cross-origin isolated (COOP and COEP headers added by
// the browser's route), so performance.now() counts in 5 µs steps, not
// the 100 µs of an ordinary page.  The same window is also measured in
// the main thread's CPU time (the thread times of the page's marks at the
// frame's arrival and at the commit, from a trace of the page): a figure
// that another process taking the core does not lengthen.
//   node bench/adapters_bench.mjs BUILD_DIR WWW_DIR   (bench/browser.sh does it; ONLY=solid for this one alone)
//   REPS (15): samples a page of each operation, GOAL_REPS (30): of the
//   two goal operations; ROUNDS (4) pages of each framework, alternating;
//   WARMUP (10): each goal operation run that many times, not counted,
//   on each page before its samples (both frameworks alike).
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
process.env.SC_BUILD = path.resolve(process.argv[2] || 'build');
const www = path.resolve(process.argv[3] || 'jsbench-www');
const { startServer, launchBrowser } = await import(pathToFileURL(path.join(root, 'tests/browser/lib.mjs')));
const REPS = Number(process.env.REPS || 15);
const GOAL_REPS = Number(process.env.GOAL_REPS || 30);
const WARMUP = Number(process.env.WARMUP ?? 10);
const ROUNDS = Number(process.env.ROUNDS || 4); // react, solid, react, solid, …: drift hits both

const REPLAYS = Number(process.env.REPLAYS || 200);

const ops = [
  { name: 'partial update (every 10th)', setup: ['create'], event: 'update_every_10th', goal: true },
  { name: 'select row', setup: ['create'], event: 'select', payload: (s, i) => ({ id: s.ids[1 + (i % 2)] }), goal: true },
  { name: 'swap rows', setup: ['create'], event: 'swap' },
  { name: 'remove row', setup: ['create'], event: 'remove', payload: (s) => ({ id: s.ids[1] }) },
  { name: 'create 1,000 rows', setup: ['clear'], event: 'create' },
  { name: 'append 1,000 to 1,000 rows', setup: ['create'], event: 'append_1000' },
];

// The q-quantile of a (linear between the two nearest samples).
const quantile = (a, q) => {
  const s = [...a].sort((x, y) => x - y);
  const i = (s.length - 1) * q;
  const lo = Math.floor(i);
  return s[lo] + (s[Math.min(lo + 1, s.length - 1)] - s[lo]) * (i - lo);
};
const median = (a) => quantile(a, 0.5);

const ids = (page) => page.evaluate(() => ({ ids: window.bench.store.getState().rows.slice(0, 3).map((r) => r.id) }));

const server = await startServer({ app: 'jsbench.fcgi', docroot: www, procs: 1, heartbeat: 15 });
const browser = await launchBrowser();
const context = await browser.newContext();
await context.route(/\/compare\.html/, async (route) => {
  // The fetch may find its kept-alive connection closed by the server
  // ("socket hang up"): it is tried again, up to three times.
  let r;
  for (let tries = 1; !r; tries++) {
    try {
      r = await route.fetch();
    } catch (e) {
      if (tries === 3) throw e;
    }
  }
  await route.fulfill({ response: r, headers: { ...r.headers(), 'cross-origin-opener-policy': 'same-origin', 'cross-origin-embedder-policy': 'require-corp' } });
});
let isolated = true;
const times = {}; // op → fw → [ms]
const cpu = {}; // op → fw → [ms of main-thread CPU]
const replays = {}; // op → fw → [mean ms]
try {
  for (let round = 0; round < ROUNDS; round++) {
    for (const fw of ['react', 'solid']) {
      const page = await context.newPage();
      page.on('pageerror', (e) => console.error('pageerror:', e.message));
      const topic = `cmp:${fw}-${round}-${Date.now()}`;
      await page.goto(`${server.url}/compare.html?fw=${fw}&topic=${topic}`);
      await page.waitForSelector('#meta[data-status="open"]', { timeout: 20000 });
      isolated &&= await page.evaluate(() => globalThis.crossOriginIsolated === true);
      const run = (e, p) => page.evaluate(([ev, q]) => window.bench.run(ev, q), [e, p]);
      // The page's marks (compare.jsx), traced: their thread times.
      const cdp = await context.newCDPSession(page);
      const marks = new Map(); // name → [{ ts, tts }]
      cdp.on('Tracing.dataCollected', (d) => {
        for (const e of d.value) if (e.cat === 'blink.user_timing' && e.name.startsWith('sc-')) (marks.get(e.name) || marks.set(e.name, []).get(e.name)).push(e);
      });
      const traced = new Promise((resolve) => cdp.once('Tracing.tracingComplete', resolve));
      await cdp.send('Tracing.start', { traceConfig: { includedCategories: ['blink.user_timing'] }, transferMode: 'ReportEvents' });
      const samples = []; // [op, { version, cursor }]
      for (const e of ['create', 'update_every_10th', 'select', 'swap', 'clear', 'create', 'update_every_10th']) {
        await run(e, e === 'select' ? { id: 1 } : undefined); // warm-up
      }
      // The goal operations WARMUP times each, not counted: a page in use
      // has run their code before; the samples are its steady state, not
      // the first frames' (V8 still compiling the page's code then).
      for (let i = 0; i < WARMUP; i++) {
        for (const op of ops.filter((o) => o.goal)) {
          for (const e of op.setup) await run(e);
          await run(op.event, op.payload ? op.payload(await ids(page), i) : undefined);
        }
      }
      for (const op of ops) {
        for (let i = 0; i < (op.goal ? GOAL_REPS : REPS); i++) {
          for (const e of op.setup) await run(e);
          // The first row ids (not the whole state: its copy would leave
          // garbage for a collection inside the measured frame), then a
          // pause for the page's own idle work.
          const state = await ids(page);
          await page.waitForTimeout(30);
          const r = await run(op.event, op.payload ? op.payload(state, i) : undefined);
          if (!r.changed) throw new Error(`${op.name}: the event changed nothing`);
          ((times[op.name] ||= { react: [], solid: [] })[fw]).push(r.ms);
          samples.push([op.name, r]);
        }
      }
      await cdp.send('Tracing.end');
      await traced;
      for (const [name, r] of samples) {
        const a = marks.get(`sc-arrival:${r.cursor}`)?.[0];
        let c;
        for (const [k, list] of marks) {
          if (!k.startsWith('sc-commit:') || Number(k.slice(10)) < r.version) continue;
          for (const e of list) if (a && e.ts >= a.ts && (!c || e.ts < c.ts)) c = e;
        }
        if (a && c && a.tts !== undefined && c.tts !== undefined) ((cpu[name] ||= { react: [], solid: [] })[fw]).push((c.tts - a.tts) / 1000);
      }
      await page.close();
      // The two goal operations again, each frame replayed in the page
      // (no network, no server): the client's own cost, on a fresh page
      // as the replay runs the page's state ahead of the server's.
      for (const op of ops.filter((o) => o.goal)) {
        const p2 = await context.newPage();
        await p2.goto(`${server.url}/compare.html?fw=${fw}&topic=${topic}-replay`);
        await p2.waitForSelector('#meta[data-status="open"]', { timeout: 20000 });
        const run2 = (e, q) => p2.evaluate(([ev, x]) => window.bench.run(ev, x), [e, q]);
        for (const e of op.setup) await run2(e);
        const state = await ids(p2);
        for (let i = 0; i < 2; i++) await run2(op.event, op.payload ? op.payload(state, i) : undefined);
        // A replay that stalls (seen rarely: a frame whose commit never
        // comes) is reported and left out, not waited for.
        try {
          const ms = await p2.evaluate((n) => window.bench.replay(n), REPLAYS);
          ((replays[op.name] ||= { react: [], solid: [] })[fw]).push(ms);
        } catch (e) {
          console.error(`${fw} round ${round}, ${op.name}: ${e.message.split('\n')[0]}`);
        }
        await p2.close();
      }
    }
  }
} finally {
  await browser.close();
  await server.stop();
}

const fmt = (ms) => `${ms.toFixed(2)} ms`.padStart(10);
console.log(`\nSolid against React: frame arrival → DOM, the same page (compare.jsx) and data, stream path; ${ROUNDS} alternating rounds, samples: ${GOAL_REPS * ROUNDS} of each goal operation (after ${WARMUP} not counted a page), ${REPS * ROUNDS} of the others; timer ${isolated ? '5 µs (cross-origin isolated)' : '100 µs (not isolated)'}`);
console.log(`${''.padEnd(30)}${'median'.padStart(30)}${'lower quartile'.padStart(35)}`);
console.log(`${'operation'.padEnd(30)}${'React'.padStart(10)}${'Solid'.padStart(10)}${'Solid÷React'.padStart(12)}${'React'.padStart(13)}${'Solid'.padStart(10)}${'Solid÷React'.padStart(12)}`);
for (const op of ops) {
  const { react, solid } = times[op.name];
  const [r, s, r1, s1] = [median(react), median(solid), quantile(react, 0.25), quantile(solid, 0.25)];
  console.log(`${op.name.padEnd(30)}${fmt(r)}${fmt(s)}${(s / r).toFixed(2).padStart(12)}${fmt(r1).padStart(13)}${fmt(s1)}${(s1 / r1).toFixed(2).padStart(12)}${op.goal ? '   (goal ≤ 0.5)' : ''}`);
}
const cpuOps = ops.filter((op) => cpu[op.name]?.react.length && cpu[op.name]?.solid.length);
if (cpuOps.length) {
  console.log(`\nthe same windows in the main thread's CPU time (thread time of the trace's marks: not lengthened by other processes taking the core)`);
  console.log(`${'operation'.padEnd(30)}${'React'.padStart(10)}${'Solid'.padStart(10)}${'Solid÷React'.padStart(12)}${'React'.padStart(13)}${'Solid'.padStart(10)}${'Solid÷React'.padStart(12)}   (median, lower quartile)`);
  for (const op of cpuOps) {
    const { react, solid } = cpu[op.name];
    const [r, s, r1, s1] = [median(react), median(solid), quantile(react, 0.25), quantile(solid, 0.25)];
    console.log(`${op.name.padEnd(30)}${fmt(r)}${fmt(s)}${(s / r).toFixed(2).padStart(12)}${fmt(r1).padStart(13)}${fmt(s1)}${(s1 / r1).toFixed(2).padStart(12)}${op.goal ? `   (n ${react.length}, ${solid.length})` : ''}`);
  }
} else console.log('\n(no thread times in the trace: the CPU-time table is left out)');
console.log(`\nthe same two operations, their last two frames replayed ${REPLAYS} times alternately in the page (dispatched on its EventSource: no network), mean dispatch → DOM (median of ${ROUNDS} rounds)`);
for (const op of ops.filter((o) => o.goal)) {
  if (!replays[op.name]?.react.length || !replays[op.name]?.solid.length) continue;
  const r = median(replays[op.name].react);
  const s = median(replays[op.name].solid);
  console.log(`${op.name.padEnd(30)}${`${r.toFixed(3)} ms`.padStart(10)}${`${s.toFixed(3)} ms`.padStart(10)}${(s / r).toFixed(2).padStart(15)}   (goal ≤ 0.5)`);
}
