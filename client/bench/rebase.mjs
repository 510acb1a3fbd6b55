// The cost of a rebase: one patch from the stream (another user's change)
// while 10 of our events with mutators are pending, on the js-framework-
// benchmark's 1,000-row state: the confirmed state takes the patch and the
// 10 mutators are replayed on it (holdMs 0: at once).  Against the same
// patch with nothing pending, and the cost of one push (its mutator on top).
//   node bench/rebase.mjs        (in client/; no dependencies)
import { createStateChannel } from '../src/index.js';
import { jsbenchMutators } from '../../bench/browser_jsbench_mutators.js';

const N = Number(process.env.ROWS || 1000);
const REPS = Number(process.env.REPS || 3000);
const rows = Array.from({ length: N }, (_, i) => ({ id: i + 1, label: `pretty red table ${i + 1}` }));

class ES {
  constructor() {
    ES.last = this;
    this.readyState = 1;
    this.listeners = {};
  }
  addEventListener(t, fn) {
    (this.listeners[t] ||= []).push(fn);
  }
  close() {}
  frame(type, data, id) {
    const ev = { type, data: JSON.stringify(data), lastEventId: id };
    for (const fn of this.listeners[type] || []) fn(ev);
  }
}

const never = () => new Promise(() => {});

function channel(pendingCount) {
  const ch = createStateChannel({
    topic: 'bench',
    initial: { topic: 'bench', version: 1, cursor: 'E:1', state: { rows, selected: null, next_id: N + 1 } },
    EventSource: ES,
    fetch: never,
    mutators: jsbenchMutators,
    holdMs: 0,
  });
  const kinds = [
    ['select', { id: 5 }],
    ['update_every_10th'],
    ['remove', { id: 20 }],
    ['swap'],
    ['select', { id: 7 }],
    ['remove', { id: 30 }],
    ['update_every_10th'],
    ['swap'],
    ['remove', { id: 40 }],
    ['select', { id: 9 }],
  ];
  for (let i = 0; i < pendingCount; i++) ch.push(kinds[i % kinds.length][0], kinds[i % kinds.length][1]).catch(() => {});
  let renders = 0;
  ch.subscribe(() => {
    ch.getState();
    renders++;
  });
  return { ch, es: ES.last };
}

const percentile = (a, p) => {
  const s = [...a].sort((x, y) => x - y);
  return s[Math.min(s.length - 1, Math.floor((s.length * p) / 100))];
};

function remotePatches(pendingCount) {
  const { ch, es } = channel(pendingCount);
  const times = [];
  for (let i = 0; i < REPS + 200; i++) {
    const v = ch.getVersion() + 1;
    const row = 100 + (i % 800);
    const t0 = performance.now();
    es.frame('patch', { topic: 'bench', version: v, patch: [{ op: 'replace', path: `/rows/${row}/label`, value: `remote ${i}` }] }, `E:${v}`);
    const t1 = performance.now();
    if (i >= 200) times.push(t1 - t0);
  }
  if (ch.getPendingEvents().length !== pendingCount) throw new Error('the pending events left');
  if (ch.getState() === ch.getConfirmedState() && pendingCount > 0) throw new Error('no prediction shown');
  ch.close();
  return times;
}

function pushes() {
  const times = [];
  for (let k = 0; k < 20; k++) {
    const { ch } = channel(9);
    for (let i = 0; i < 50; i++) {
      const t0 = performance.now();
      ch.push('select', { id: 1 + i }).catch(() => {});
      const t1 = performance.now();
      if (k > 2) times.push(t1 - t0);
    }
    ch.close();
  }
  return times;
}

const fmt = (ms) => `${(ms * 1000).toFixed(0)} µs`;
const base = remotePatches(0);
const ten = remotePatches(10);
const p = pushes();
console.log(`rebase benchmark (node ${process.version}): ${N} rows, ${REPS} remote patches (one row label each), median / p99`);
console.log(`  remote patch, nothing pending:            ${fmt(percentile(base, 50))} / ${fmt(percentile(base, 99))}`);
console.log(`  remote patch, 10 pending events rebased:  ${fmt(percentile(ten, 50))} / ${fmt(percentile(ten, 99))}   (goal <= 2 ms)`);
console.log(`  push with a mutator (10th pending event): ${fmt(percentile(p, 50))} / ${fmt(percentile(p, 99))}`);
