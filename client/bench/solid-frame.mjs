// What one stream frame costs the Solid store, from the EventSource event
// to the effects having run (no DOM: a render effect per row reading its
// label, one per row on createSelector, one reading its id), on the
// js-framework-benchmark's 1,000-row state: "update every 10th row" (100
// ops) and "select row" (1 op).  With BASELINE=DIR (another checkout's
// client/src) that client too, alternating.
//   node --conditions=browser bench/solid-frame.mjs            (in client/)
//   BASELINE=/tmp/old/client/src node --conditions=browser bench/solid-frame.mjs
// With --jitless (V8's interpreter only) it counts roughly what a page's
// rarely run, not yet optimized code costs.
import { createRoot, createRenderEffect, mapArray, createMemo, createSelector } from 'solid-js';
import { loadClients, BenchEventSource as ES } from './clients.mjs';

const mods = await loadClients('solid.js');

const N = 1000;
const REPS = Number(process.env.REPS || 1500);
const rows = Array.from({ length: N }, (_, i) => ({ id: i + 1, label: `pretty red table ${i + 1}` }));
const ops = {
  'every 10th': (k) => Array.from({ length: N / 10 }, (_, i) => ({ op: 'replace', path: `/rows/${i * 10}/label`, value: `row ${i} ${k}` })),
  select: (k) => [{ op: 'replace', path: '/selected', value: 1 + (k % 3) }],
};

const results = {};
for (let round = 0; round < 5; round++) {
  for (const [name, mod] of mods) {
    for (const [op, makePatch] of Object.entries(ops)) {
      const { es, dispose } = createRoot((dispose) => {
        const [s] = mod.createStateChannelStore({ topic: 't', initial: { topic: 't', version: 1, cursor: 'E:1', state: { rows, selected: null } }, EventSource: ES, fetch: () => new Promise(() => {}), share: false });
        const isSelected = createSelector(() => s.selected);
        createMemo(
          mapArray(
            () => s.rows,
            (r) => {
              createRenderEffect(() => void r.label);
              createRenderEffect(() => void isSelected(r.id));
              createRenderEffect(() => void r.id);
            },
          ),
        );
        return { es: ES.last, dispose };
      });
      const frames = Array.from({ length: REPS }, (_, i) => JSON.stringify({ topic: 't', version: i + 2, patch: makePatch(i) }));
      // CPU time (of this process), not wall time: other processes taking
      // the core do not lengthen it.
      const t0 = process.cpuUsage();
      for (let i = 0; i < REPS; i++) es.frame('patch', frames[i], `E:${i + 2}`);
      const d = process.cpuUsage(t0);
      const us = (d.user + d.system) / REPS;
      dispose();
      ((results[name] ||= {})[op] ||= []).push(us);
    }
  }
}
const med = (a) => [...a].sort((x, y) => x - y)[Math.floor(a.length / 2)];
console.log(`Solid store: one stream frame, event → effects run, CPU time (node ${process.version}${process.execArgv.includes('--jitless') ? ', --jitless' : ''}, ${N} rows, no DOM, median of 5 rounds of ${REPS})`);
console.log('client'.padEnd(14), ...Object.keys(ops).map((o) => o.padStart(14)));
for (const [name] of mods) console.log(name.padEnd(14), ...Object.keys(ops).map((o) => `${med(results[name][o]).toFixed(1)} µs`.padStart(14)));
