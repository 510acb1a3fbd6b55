// The js-framework-benchmark operations, driven as events against the
// jsbench app (examples/jsbench/app.c) behind lighttpd, rendered by React
// through useStateChannel / useStateChannelSelector in headless Chromium.
// For each operation: the time from pushMessage to the DOM showing the
// change (React's commit of the new version), and the bytes received for
// it: the SSE patch frame(s) on the stream and the POST's answer.
// Two modes: "answer" (default client: the POST's answer patch is applied
// at once) and "stream" (?answers=0: the DOM changes only from the SSE
// frame, the server-push path other clients see).
//   node bench/browser_bench.mjs BUILD_DIR WWW_DIR   (bench/browser.sh does it)
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
process.env.SC_BUILD = path.resolve(process.argv[2] || 'build');
const www = path.resolve(process.argv[3] || 'jsbench-www');
const { startServer, launchBrowser } = await import(pathToFileURL(path.join(root, 'tests/browser/lib.mjs')));
const REPS = Number(process.env.REPS || 5);

const ops = [
  { name: 'create 1,000 rows', setup: [['clear']], event: 'create' },
  { name: 'replace all 1,000 rows', setup: [['create']], event: 'replace' },
  { name: 'partial update (every 10th)', setup: [['create']], event: 'update_every_10th' },
  { name: 'select row', setup: [['create']], event: 'select', payload: (s) => ({ id: s.rows[1].id }) },
  { name: 'swap rows', setup: [['create']], event: 'swap' },
  { name: 'remove row', setup: [['create']], event: 'remove', payload: (s) => ({ id: s.rows[1].id }) },
  { name: 'create 10,000 rows', setup: [['clear']], event: 'create_10000', reps: Math.max(2, Math.ceil(REPS / 2)) },
  { name: 'append 1,000 to 1,000 rows', setup: [['create']], event: 'append_1000' },
  { name: 'clear 1,000 rows', setup: [['create']], event: 'clear' },
];

const median = (a) => {
  const s = [...a].sort((x, y) => x - y);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

const server = await startServer({ app: 'jsbench.fcgi', docroot: www, procs: 1, heartbeat: 15 });
const browser = await launchBrowser();
const results = {};
try {
  for (const mode of ['answer', 'stream']) {
    const page = await browser.newPage();
    page.on('pageerror', (e) => console.error('pageerror:', e.message));
    const cdp = await page.context().newCDPSession(page);
    await cdp.send('Network.enable');
    // The SSE frames as the browser parsed them, by id (= the event's
    // cursor): "event: patch\nid: ID\ndata: DATA\n\n" bytes.
    const frames = new Map();
    cdp.on('Network.eventSourceMessageReceived', (e) => {
      const n = 'event: \nid: \ndata: \n\n'.length + e.eventName.length + e.eventId.length + Buffer.byteLength(e.data);
      frames.set(e.eventId, (frames.get(e.eventId) || 0) + n);
    });
    const topic = `bench:${mode}-${Date.now()}`;
    await page.goto(`${server.url}/?topic=${topic}${mode === 'stream' ? '&answers=0' : ''}`);
    await page.waitForSelector('#meta[data-status="open"]', { timeout: 20000 });
    await page.waitForFunction(() => window.bench && window.bench.store.getState());

    // Runs an event and waits until its SSE frame has arrived.
    const settle = async (r) => {
      await page.waitForFunction(
        (c) => {
          const cur = window.bench.store.getCursor();
          return cur && Number(cur.split(':').pop()) >= Number(c.split(':').pop());
        },
        r.cursor,
        { timeout: 20000 },
      );
      // and until CDP has reported the frame (empty patches send none)
      for (let i = 0; i < 100 && r.changed && !frames.has(r.cursor); i++) await page.waitForTimeout(20);
    };
    const run = async (ev, p) => {
      const r = await page.evaluate(([e, q]) => window.bench.run(e, q), [ev, p]);
      await settle(r);
      return r;
    };
    // warm-up
    for (const e of ['create', 'update_every_10th', 'swap', 'clear']) await run(e);

    for (const op of ops) {
      const times = [];
      const answerTimes = [];
      const sse = [];
      const post = [];
      for (let i = 0; i < (op.reps || REPS); i++) {
        for (const [e] of op.setup) await run(e);
        const state = await page.evaluate(() => window.bench.store.getState());
        const payload = op.payload ? op.payload(state) : undefined;
        const r = await run(op.event, payload);
        times.push(r.ms);
        answerTimes.push(r.answerMs);
        sse.push(frames.get(r.cursor) || 0);
        post.push(r.answerBytes);
      }
      (results[op.name] ||= {})[mode] = { ms: median(times), answerMs: median(answerTimes), sse: median(sse), post: median(post) };
    }
    await page.close();
  }
} finally {
  await browser.close();
  await server.stop();
}

const fmtB = (n) => (n >= 10240 ? `${(n / 1024).toFixed(0)} KiB` : `${Math.round(n)} B`);
console.log(`\nbrowser benchmark: React + statechannel-client in headless Chromium, jsbench app behind lighttpd (median of ${REPS}; 10,000 rows: ${Math.max(2, Math.ceil(REPS / 2))})`);
console.log('  push→DOM: from pushMessage until React committed the new version. "answer": the default client, which applies the POST');
console.log('  answer or the SSE frame, whichever comes first; "stream": only the SSE frame (applyAnswers: false), the path every other');
console.log('  subscriber sees.  push done: until pushMessage resolved.  SSE bytes: the patch frame (event, id, data lines);');
console.log('  answer bytes: the POST answer body (it carries the same patch).');
console.log(
  'operation'.padEnd(30),
  'push→DOM answer'.padStart(16),
  'push→DOM stream'.padStart(16),
  'push done'.padStart(10),
  'SSE bytes'.padStart(10),
  'answer bytes'.padStart(13),
);
for (const [name, r] of Object.entries(results)) {
  console.log(
    name.padEnd(30),
    `${r.answer.ms.toFixed(1)} ms`.padStart(16),
    `${r.stream.ms.toFixed(1)} ms`.padStart(16),
    `${r.answer.answerMs.toFixed(1)} ms`.padStart(10),
    fmtB(r.stream.sse).padStart(10),
    fmtB(r.answer.post).padStart(13),
  );
}
