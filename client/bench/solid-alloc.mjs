// Objects allocated per one-row patch by statechannel-client/solid, counted
// by V8's sampling heap profiler at a 1-byte interval (every allocation is
// a sample, collected ones included), minus an empty run's count.  Three
// parts of one SSE patch frame "replace /rows/R/label":
//   solid:  the adapter's store writes (the patch already parsed),
//           a render effect per row reading its label (the row that
//           changed re-runs)
//   core:   the channel's immutable applyPatch (path copying), what a
//           channel without lazyState does per frame (React's)
//   frame:  the whole frame as the browser delivers it to the Solid store
//           (its channel has lazyState: the patch is kept, not applied):
//           JSON.parse, onPatch → solid, subscribers (the 4,096-op
//           bound of lazyState is not reached: K patches of one op)
// over 1,000 / 10,000 / 100,000 rows and at three depths.
//   node --conditions=browser bench/solid-alloc.mjs (in client/)   (bench/solid_alloc.sh does it)
import { Session } from 'node:inspector/promises';
import { createRoot, createRenderEffect, mapArray, createMemo } from 'solid-js';
import { createStore } from 'solid-js/store';
import { createStateChannelStore, applyPatchToStore } from '../src/solid.js';
import { applyPatch } from '../src/patch.js';
import { FakeEventSource as ES } from '../test/fakes.mjs';

const session = new Session();
session.connect();
await session.post('HeapProfiler.enable');

async function sample(fn) {
  await session.post('HeapProfiler.startSampling', { samplingInterval: 1, includeObjectsCollectedByMajorGC: true, includeObjectsCollectedByMinorGC: true });
  fn();
  const { profile } = await session.post('HeapProfiler.stopSampling');
  let objects = 0;
  let bytes = 0;
  for (const s of profile.samples) {
    objects++;
    bytes += s.size;
  }
  return { objects, bytes };
}

const K = 200; // patches per measurement
const base = await sample(() => {
  for (let i = 0; i < K; i++);
});

// The fewest of three runs of K patches (a run can catch the profiler's or
// the GC's own allocations), per patch.
async function perPatch(fn) {
  for (let i = 0; i < K; i++) fn(i); // warm up (JIT, Solid's nodes)
  let best = null;
  for (let r = 1; r <= 3; r++) {
    const m = await sample(() => {
      for (let i = 0; i < K; i++) fn(i + r * K);
    });
    if (best === null || m.objects < best.objects) best = m;
  }
  return { objects: (best.objects - base.objects) / K, bytes: (best.bytes - base.bytes) / K };
}

// A state whose rows sit at depth `depth` (2: /rows/R/label; more: /a/a/.../rows/R/label).
function makeState(n, depth) {
  const rows = Array.from({ length: n }, (_, i) => ({ id: i + 1, label: `row ${i + 1}` }));
  let s = { rows, selected: null };
  const prefix = [];
  for (let d = 2; d < depth; d++) {
    s = { a: s };
    prefix.push('a');
  }
  return { state: s, prefix: prefix.length ? `/${prefix.join('/')}` : '' };
}

function rowsAt(state, prefix) {
  let s = state;
  for (const k of prefix.split('/').filter(Boolean)) s = s[k];
  return s.rows;
}

async function measure(n, depth) {
  const { state, prefix } = makeState(n, depth);
  const row = (i) => (i * 7919) % n;
  const label = (i) => `label ${i}`;
  // solid: the adapter's own step, on a store with a render effect per row
  const [store] = createStore(structuredClone(state));
  const disposeA = createRoot((dispose) => {
    createMemo(mapArray(() => rowsAt(store, prefix), (r) => createRenderEffect(() => void r.label)));
    return dispose;
  });
  const patches = Array.from({ length: 4 * K }, (_, i) => [{ op: 'replace', path: `${prefix}/rows/${row(i)}/label`, value: label(i) }]);
  const solid = await perPatch((i) => applyPatchToStore(store, patches[i]));
  disposeA();
  // core: the immutable apply alone
  let doc = state;
  const core = await perPatch((i) => {
    doc = applyPatch(doc, patches[i]);
  });
  // frame: the whole path of an SSE frame
  ES.reset();
  const disposeB = createRoot((dispose) => {
    const [s] = createStateChannelStore({ topic: 't', initial: { topic: 't', version: 1, cursor: 'E:1', state }, EventSource: ES, fetch: () => Promise.reject(new Error('no fetch')) });
    createMemo(mapArray(() => rowsAt(s, prefix), (r) => createRenderEffect(() => void r.label)));
    return dispose;
  });
  const events = Array.from({ length: 4 * K }, (_, i) => ({ type: 'patch', data: JSON.stringify({ topic: 't', version: i + 2, patch: patches[i] }), lastEventId: `E:${i + 2}` }));
  const frame = await perPatch((i) => ES.last.dispatch('patch', events[i]));
  disposeB();
  return { solid, core, frame };
}

const fmt = (m) => `${m.objects.toFixed(1).padStart(7)} obj ${String(Math.round(m.bytes)).padStart(8)} B`;
console.log(`\nSolid adapter: objects allocated per one-row patch "replace .../rows/R/label" (V8 sampling heap profiler, 1-byte interval, mean of ${K})`);
console.log('  solid: the adapter\'s store writes + the changed row\'s effect; core: the channel\'s immutable applyPatch;');
console.log('  frame: the whole SSE frame into the Solid store (JSON.parse, the patch kept by the lazyState channel, onPatch → store writes, subscribers)');
console.log(`${'rows'.padStart(8)} ${'depth'.padStart(5)}  ${'solid'.padEnd(20)}  ${'core'.padEnd(20)}  ${'frame'.padEnd(20)}`);
for (const [n, depth] of [
  [1000, 3],
  [10000, 3],
  [100000, 3],
  [10000, 6],
  [10000, 12],
]) {
  const r = await measure(n, depth);
  console.log(`${String(n).padStart(8)} ${String(depth).padStart(5)}  ${fmt(r.solid)}  ${fmt(r.core)}  ${fmt(r.frame)}`);
}
