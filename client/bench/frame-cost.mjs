// What the client spends on one stream frame and on one push answer with
// nothing pending (the path of every event without a mutator), for this
// client and, with BASELINE=DIR (another checkout's client/src), for that
// one, alternating, on the js-framework-benchmark's 1,000-row state.
//   node bench/frame-cost.mjs                 (in client/)
//   BASELINE=/tmp/old/client/src node bench/frame-cost.mjs
import { loadClients, BenchEventSource as ES } from './clients.mjs';

const REPS = Number(process.env.REPS || 2000);
const N = 1000;
const mods = await loadClients('index.js');

const rows = Array.from({ length: N }, (_, i) => ({ id: i + 1, label: `pretty red table ${i + 1}` }));
const every10 = (k) => Array.from({ length: N / 10 }, (_, i) => ({ op: 'replace', path: `/rows/${i * 10}/label`, value: `row ${i} ${k}` }));
const select = (k) => [{ op: 'replace', path: '/selected', value: k }];

function streamCost(mod, makePatch) {
  const ch = mod.createStateChannel({ topic: 'b', initial: { topic: 'b', version: 1, cursor: 'E:1', state: { rows, selected: null } }, EventSource: ES, fetch: () => new Promise(() => {}), share: false });
  ch.subscribe(() => ch.getState());
  const es = ES.last;
  const frames = Array.from({ length: REPS }, (_, i) => JSON.stringify({ topic: 'b', version: i + 2, patch: makePatch(i) }));
  const t0 = performance.now();
  for (let i = 0; i < REPS; i++) es.frame('patch', frames[i], `E:${i + 2}`);
  const t = performance.now() - t0;
  ch.close();
  return (t / REPS) * 1000;
}

async function answerCost(mod, makePatch) {
  let v = 1;
  const fetch = async () => {
    v++;
    return new Response(JSON.stringify({ topic: 'b', version: v, cursor: `E:${v}`, patch: makePatch(v) }), { status: 200 });
  };
  const ch = mod.createStateChannel({ topic: 'b', initial: { topic: 'b', version: 1, cursor: 'E:1', state: { rows, selected: null } }, EventSource: ES, fetch, share: false });
  ch.subscribe(() => ch.getState());
  const n = REPS / 4;
  const t0 = performance.now();
  for (let i = 0; i < n; i++) await ch.push('e', {});
  const t = performance.now() - t0;
  ch.close();
  return (t / n) * 1000;
}

const results = {};
for (let round = 0; round < 5; round++) {
  for (const [name, mod] of mods) {
    const r = (results[name] ||= { every10: [], select: [], answer: [] });
    r.every10.push(streamCost(mod, every10));
    r.select.push(streamCost(mod, select));
    r.answer.push(await answerCost(mod, select));
  }
}
const med = (a) => [...a].sort((x, y) => x - y)[Math.floor(a.length / 2)];
console.log(`client cost per event, nothing pending (node ${process.version}, ${N} rows, median of 5 rounds)`);
console.log('client'.padEnd(14), 'stream frame: every 10th'.padStart(26), 'stream frame: select'.padStart(22), 'push + answer: select'.padStart(23));
for (const [name] of mods) {
  const r = results[name];
  console.log(name.padEnd(14), `${med(r.every10).toFixed(1)} µs`.padStart(26), `${med(r.select).toFixed(1)} µs`.padStart(22), `${med(r.answer).toFixed(1)} µs`.padStart(23));
}
