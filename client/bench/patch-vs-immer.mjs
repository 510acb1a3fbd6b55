// Our path-copying applyPatch against immer's applyPatches (JSON Pointers
// converted to immer's path arrays), on the js-framework-benchmark table.
//   node bench/patch-vs-immer.mjs        (in client/, after npm ci)
import { applyPatch, parsePointer } from '../src/patch.js';
import { applyPatches, setAutoFreeze, enablePatches } from 'immer';

enablePatches();

const rows = (n, from = 1) => Array.from({ length: n }, (_, i) => ({ id: from + i, label: `pretty red table ${from + i}` }));

function toImmer(ops) {
  return ops.map((o) => {
    const r = { op: o.op, path: parsePointer(o.path) };
    if ('value' in o) r.value = o.value;
    if ('from' in o) r.from = parsePointer(o.from);
    return r;
  });
}

function cases(n) {
  const base = { rows: rows(n), selected: null, next_id: n + 1 };
  const every10 = [];
  for (let i = 0; i < n; i += 10) every10.push({ op: 'replace', path: `/rows/${i}/label`, value: `${base.rows[i].label} !!!` });
  const append = rows(1000, n + 1).map((r) => ({ op: 'add', path: '/rows/-', value: r }));
  return {
    base,
    ops: {
      'select (1 replace)': [{ op: 'replace', path: '/selected', value: 5 }],
      'swap rows (2 replace)': [
        { op: 'replace', path: '/rows/1', value: base.rows[n - 2] },
        { op: 'replace', path: '/rows/' + (n - 2), value: base.rows[1] },
      ],
      'remove row (1 remove)': [{ op: 'remove', path: '/rows/500' }],
      [`update every 10th (${every10.length} replace)`]: every10,
      'append 1,000 rows (1000 add)': append,
      'replace all rows (1 replace)': [{ op: 'replace', path: '/rows', value: rows(n, n + 1) }],
    },
  };
}

function time(fn, minMs = 300) {
  let iters = 0;
  const t0 = performance.now();
  let t;
  do {
    fn();
    iters++;
    t = performance.now() - t0;
  } while (t < minMs);
  return (t * 1000) / iters; // µs per op
}

for (const n of [1000, 10000]) {
  const { base, ops } = cases(n);
  console.log(`\nstate of ${n} rows; µs per patch (lower is better)`);
  console.log('operation'.padEnd(34), 'ours'.padStart(10), 'immer'.padStart(10), 'immer-nofreeze'.padStart(15), ' ours vs immer');
  for (const [name, patch] of Object.entries(ops)) {
    const ip = toImmer(patch);
    // warm up + check both agree
    const a = applyPatch(base, patch);
    setAutoFreeze(false);
    const b = applyPatches(base, ip);
    if (JSON.stringify(a) !== JSON.stringify(b)) throw new Error(`disagree on ${name}`);
    const ours = time(() => applyPatch(base, patch));
    const nofreeze = time(() => applyPatches(base, ip));
    setAutoFreeze(true);
    // immer freezes its result (deeply, once per new tree): measured on a
    // fresh base each time would dominate; this is the steady state.
    const frozen = time(() => applyPatches(base, ip));
    console.log(
      name.padEnd(34),
      ours.toFixed(1).padStart(10),
      frozen.toFixed(1).padStart(10),
      nofreeze.toFixed(1).padStart(15),
      `  ${(Math.min(frozen, nofreeze) / ours).toFixed(1)}x faster`,
    );
  }
}
