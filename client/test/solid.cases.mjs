// The Solid adapter's cases; run by solid.test.mjs under --conditions=browser.
import { test, beforeEach } from 'node:test';
import assert from 'node:assert/strict';
import { createRoot, createRenderEffect, mapArray, createMemo } from 'solid-js';
import { createStore, unwrap } from 'solid-js/store';
import { createStateChannelStore, applyPatchToStore, createKeyedSelection } from '../src/solid.js';
import { applyPatch } from '../src/index.js';
import { FakeEventSource as ES, fakeFetch, heldFetch, json, until } from './fakes.mjs';

beforeEach(() => ES.reset());

const noFetch = fakeFetch(() => {
  throw new Error('no fetch expected');
});

const rows = (n) => Array.from({ length: n }, (_, i) => ({ id: i + 1, label: `row ${i + 1}` }));
let seq = 0;
const patchFrame = (version, patch) => ES.last.frame('patch', { topic: 't', version, patch }, `E:${++seq}`);

test('the reactive build is loaded (a store write re-runs an effect)', () => {
  const [s, set] = createStore({ a: 1 });
  let runs = 0;
  const dispose = createRoot((d) => {
    createRenderEffect(() => {
      void s.a;
      runs++;
    });
    return d;
  });
  set('a', 2);
  assert.equal(runs, 2);
  dispose();
});

test('a patch that touches one row re-runs only the effects that read that row', () => {
  const initial = { topic: 't', version: 1, cursor: 'E:1', state: { rows: rows(1000), selected: null } };
  const labelRuns = new Array(1003).fill(0);
  const idRuns = new Array(1003).fill(0);
  let lengthRuns = 0;
  let versionRuns = 0;
  // Updates inside createRoot's own run are deferred to its end: set up
  // here, patch below.
  const { state, mapped, dispose } = createRoot((dispose) => {
    const [state, { version }] = createStateChannelStore({ topic: 't', initial, EventSource: ES, fetch: noFetch });
    // One row component per row, as <For> makes them: one effect for its
    // label, one for its id.
    const mapped = createMemo(
      mapArray(
        () => state.rows,
        (row) => {
          const id = row.id;
          createRenderEffect(() => {
            void row.label;
            labelRuns[id]++;
          });
          createRenderEffect(() => {
            void row.id;
            idRuns[id]++;
          });
          return id;
        },
      ),
    );
    createRenderEffect(() => {
      void state.rows.length;
      lengthRuns++;
    });
    createRenderEffect(() => {
      void version();
      versionRuns++;
    });
    return { state, mapped, dispose };
  });
  const sum = (a) => a.reduce((x, y) => x + y);
  assert.equal(mapped().length, 1000);
  assert.deepEqual([sum(labelRuns), sum(idRuns)], [1000, 1000]);

  patchFrame(2, [{ op: 'replace', path: '/rows/41/label', value: 'changed' }]);
  assert.equal(state.rows[41].label, 'changed');
  assert.equal(labelRuns[42], 2, 'the label effect of the changed row re-ran once');
  assert.equal(sum(labelRuns), 1001, 'and no other label effect');
  assert.equal(sum(idRuns), 1000, 'no id effect re-ran');
  assert.equal(lengthRuns, 1, 'the length effect did not re-run');
  assert.equal(versionRuns, 2, 'the version effect re-ran');

  // the whole row replaced with the same id: that row's label only
  patchFrame(3, [{ op: 'replace', path: '/rows/7', value: { id: 8, label: 'eight' } }]);
  assert.equal(sum(labelRuns), 1002);
  assert.equal(labelRuns[8], 2);
  assert.equal(sum(idRuns), 1000);

  // update every 10th row: 100 label effects, each once (one batch)
  patchFrame(
    4,
    Array.from({ length: 100 }, (_, k) => ({ op: 'replace', path: `/rows/${k * 10}/label`, value: `u${k}` })),
  );
  assert.equal(sum(labelRuns), 1102);
  assert.equal(versionRuns, 4);

  // an append: the new row's effects and the length effect, no old row's
  patchFrame(5, [{ op: 'add', path: '/rows/-', value: { id: 1001, label: 'new' } }]);
  assert.equal(mapped().length, 1001);
  assert.equal(lengthRuns, 2);
  assert.deepEqual([sum(labelRuns), sum(idRuns)], [1103, 1001], 'old rows untouched');

  // a row removed from the middle and one inserted: no other row's effects
  patchFrame(6, [{ op: 'remove', path: '/rows/500' }]);
  patchFrame(7, [{ op: 'add', path: '/rows/3', value: { id: 1002, label: 'inserted' } }]);
  assert.equal(mapped().length, 1001);
  assert.equal(state.rows[3].label, 'inserted');
  assert.equal(state.rows[501].id, 502);
  assert.deepEqual([sum(labelRuns), sum(idRuns)], [1104, 1002], 'only the new row ran its effects');
  assert.equal(lengthRuns, 4, 'the length effect re-ran for each');
  dispose();
});

// Every op kind against the core's applyPatch: the store ends up equal to
// the channel's state after each patch.
const patches = [
  [{ op: 'add', path: '/items/1', value: { id: 'x', name: 'inserted', tags: ['a'] } }],
  [{ op: 'add', path: '/items/-', value: { id: 'y', name: 'appended' } }],
  [{ op: 'remove', path: '/items/0' }],
  [{ op: 'replace', path: '/items/0', value: { id: 'x', name: 'no tags now' } }],
  [{ op: 'add', path: '/meta/owner', value: 'ann' }, { op: 'replace', path: '/meta/title', value: 'T' }],
  [{ op: 'remove', path: '/meta/owner' }],
  [{ op: 'move', from: '/items/0', path: '/items/-' }],
  [{ op: 'copy', from: '/items/0', path: '/meta/first' }],
  [{ op: 'replace', path: '/meta/first/name', value: 'copy changed' }],
  [{ op: 'test', path: '/meta/title', value: 'T' }, { op: 'replace', path: '/meta', value: { title: 'only' } }],
  [{ op: 'add', path: '/a~1b', value: [1, 2] }, { op: 'move', from: '/a~1b', path: '/meta/list' }],
  [{ op: 'replace', path: '', value: { items: [{ id: 'z', name: 'root replaced' }], meta: {} } }],
];

test('every op kind (add, remove, replace, move, copy, test, root) gives the channel state', () => {
  const state0 = { items: [{ id: 'a', name: 'first', tags: ['t'] }, { id: 'b', name: 'second' }], meta: { title: 'list' } };
  createRoot((dispose) => {
    const [state, { channel }] = createStateChannelStore({ topic: 't', initial: { topic: 't', version: 1, cursor: 'E:1', state: state0 }, EventSource: ES, fetch: noFetch });
    let v = 1;
    let expect = state0;
    for (const p of patches) {
      patchFrame(++v, p);
      expect = applyPatch(expect, p);
      assert.deepEqual(channel.getState(), expect, 'the core applied it');
      assert.deepEqual(structuredClone(unwrap(state)), expect, `after ${JSON.stringify(p)}`);
    }
    assert.deepEqual(state0.items[0], { id: 'a', name: 'first', tags: ['t'] }, 'the channel states are untouched');
    dispose();
  });
});

test('a copied value is a copy: changing one place leaves the other', () => {
  const [s, set] = createStore({ a: { x: 1 }, b: null });
  applyPatchToStore(s, [{ op: 'copy', from: '/a', path: '/b' }, { op: 'replace', path: '/b/x', value: 2 }]);
  assert.deepEqual(unwrap(s), { a: { x: 1 }, b: { x: 2 } });
  assert.throws(() => applyPatchToStore(s, [{ op: 'remove', path: '/nope' }]), /no value/);
  assert.throws(() => applyPatchToStore(s, [{ op: 'test', path: '/a/x', value: 5 }]), /test failed/);
  // a store whose root is an array: inserts and removes shift it in place
  const [arr] = createStore([{ id: 1 }, { id: 2 }, { id: 3 }]);
  const first = arr[0];
  applyPatchToStore(arr, [{ op: 'add', path: '/1', value: { id: 9 } }, { op: 'remove', path: '/3' }]);
  assert.deepEqual(structuredClone(unwrap(arr)), [{ id: 1 }, { id: 9 }, { id: 2 }]);
  assert.equal(arr[0], first);
  // an object with another id replaces (a new object), the same id is reconciled into it
  const [rows] = createStore({ rows: [{ id: 1, label: 'a', extra: true }, { id: 2, label: 'b' }] });
  const r0 = rows.rows[0];
  const r1 = rows.rows[1];
  applyPatchToStore(rows, [
    { op: 'replace', path: '/rows/0', value: { id: 1, label: 'A' } },
    { op: 'replace', path: '/rows/1', value: { id: 3, label: 'c' } },
  ]);
  assert.equal(rows.rows[0], r0);
  assert.deepEqual(structuredClone(unwrap(r0)), { id: 1, label: 'A' }, 'reconciled: the key it lost is gone');
  assert.notEqual(rows.rows[1], r1);
  assert.deepEqual(structuredClone(unwrap(rows.rows[1])), { id: 3, label: 'c' });
});

test('a full state (resync) is reconciled: rows that did not change keep their identity', async () => {
  const fetch = fakeFetch(() => json(200, { topic: 't', version: 9, cursor: 'E:90', state: { rows: [{ id: 1, label: 'one' }, { id: 2, label: 'TWO' }, { id: 3, label: 'three' }] } }));
  await createRoot(async (dispose) => {
    const [state, { version, status }] = createStateChannelStore({ topic: 't', EventSource: ES, fetch });
    assert.deepEqual(unwrap(state), {}, 'empty until the first snapshot');
    assert.equal(status(), 'connecting');
    ES.last.open();
    assert.equal(status(), 'open');
    ES.last.frame('state', { topic: 't', version: 5, state: { rows: [{ id: 1, label: 'one' }, { id: 2, label: 'two' }] } }, 'E:50');
    assert.equal(version(), 5);
    const r1 = state.rows[0];
    const r2 = state.rows[1];
    let r1Runs = 0;
    createRenderEffect(() => {
      void r1.label;
      r1Runs++;
    });
    patchFrame(7, []); // a gap (6 is missing): resync
    await until(() => version() === 9);
    assert.equal(state.rows[0], r1, 'row 1 kept its identity');
    assert.equal(state.rows[1], r2, 'row 2 too (same id), its label changed in place');
    assert.equal(r2.label, 'TWO');
    assert.equal(state.rows[2].label, 'three');
    assert.equal(r1Runs, 1, "row 1's effect did not re-run");
    dispose();
  });
});

test('several topics: the store is keyed by topic; a patch changes only its topic', () => {
  let aRuns = 0;
  const { state, version, dispose } = createRoot((dispose) => {
    const [state, { version }] = createStateChannelStore({
      topics: ['a', 'b'],
      initial: [
        { topic: 'a', version: 1, cursor: 'E:1', state: { n: 1 } },
        { topic: 'b', version: 4, cursor: 'E:1', state: { n: 2 } },
      ],
      EventSource: ES,
      fetch: noFetch,
    });
    createRenderEffect(() => {
      void state.a.n;
      aRuns++;
    });
    return { state, version, dispose };
  });
  ES.last.frame('patch', { topic: 'b', version: 5, patch: [{ op: 'replace', path: '/n', value: 3 }] }, 'E:2');
  assert.deepEqual(unwrap(state), { a: { n: 1 }, b: { n: 3 } });
  assert.equal(version('b'), 5);
  assert.equal(version('a'), 1);
  assert.equal(aRuns, 1);
  dispose();
});

test('inside an owner the channel closes with it; a given channel stays open', () => {
  createRoot((dispose) => {
    createStateChannelStore({ topic: 't', EventSource: ES, fetch: noFetch });
    dispose();
  });
  assert.equal(ES.last.closed, true);
});

const names = (s) => s.items.map((i) => i.name);

test('optimistic updates: a prediction shows at once, a patch from the stream under it, a rejection rolls it back', async () => {
  const mutators = { add: (s, p) => ({ ...s, items: [...s.items, { id: `tmp-${p.name}`, name: p.name }] }) };
  const fetch = heldFetch();
  const initial = { topic: 't', version: 1, cursor: 'E:1', state: { items: [{ id: 1, name: 'a' }] } };
  const { state, push, pending, version, channel, dispose } = createRoot((dispose) => {
    const [state, { push, pending, version, channel }] = createStateChannelStore({ topic: 't', initial, EventSource: ES, fetch, mutators, holdMs: 0 });
    return { state, push, pending, version, channel, dispose };
  });
  const a = state.items[0];
  let aRuns = 0;
  const disposeEffect = createRoot((d) => {
    createRenderEffect(() => {
      void a.name;
      aRuns++;
    });
    return d;
  });
  const p = push('add', { name: 'b' });
  const refused = assert.rejects(p, /empty/);
  assert.deepEqual(names(state), ['a', 'b'], 'the prediction, before any answer');
  assert.equal(state.items[0], a, 'reconciled, not replaced');
  assert.equal(pending().length, 1);
  assert.equal(pending()[0].status, 'sending');
  // another user's change while the push is in flight: shown under the prediction
  patchFrame(2, [{ op: 'add', path: '/items/0', value: { id: 0, name: 'z' } }]);
  assert.deepEqual(names(state), ['z', 'a', 'b']);
  assert.equal(state.items[1], a);
  assert.equal(version(), 2);
  // the server refuses it: the prediction goes, the confirmed state stays
  await fetch.answer(0, json(422, { error: { code: 'bad_name', message: 'the name is empty' } }));
  await refused;
  assert.deepEqual(names(state), ['z', 'a']);
  assert.equal(state.items[1], a);
  assert.equal(pending()[0].status, 'failed');
  assert.equal(channel.isOptimistic(), false);
  // and the store follows the stream patch by patch again
  patchFrame(3, [{ op: 'replace', path: '/items/1/name', value: 'A' }]);
  assert.equal(a.name, 'A');
  assert.deepEqual(structuredClone(unwrap(state)), channel.getState());
  assert.equal(aRuns, 2, "a's effect ran once more, for its new name only");
  disposeEffect();
  dispose();
});

test('optimistic updates: the confirmation replaces the prediction with the server\'s row', async () => {
  const mutators = { add: (s, p) => ({ ...s, items: [...s.items, { id: `tmp-${p.name}`, name: p.name }] }) };
  const fetch = heldFetch();
  const initial = { topic: 't', version: 1, cursor: 'E:1', state: { items: [] } };
  await createRoot(async (dispose) => {
    const [state, { push, pending }] = createStateChannelStore({ topic: 't', initial, EventSource: ES, fetch, mutators });
    const p = push('add', { name: 'b' });
    assert.deepEqual(structuredClone(unwrap(state)).items, [{ id: 'tmp-b', name: 'b' }]);
    await fetch.answer(0, json(200, { topic: 't', version: 2, cursor: 'E:2', patch: [{ op: 'add', path: '/items/-', value: { id: 7, name: 'b' } }] }));
    await p;
    assert.deepEqual(structuredClone(unwrap(state)).items, [{ id: 7, name: 'b' }]);
    assert.equal(pending().length, 0);
    // the same patch from the stream: already applied (by version)
    patchFrame(2, [{ op: 'add', path: '/items/-', value: { id: 7, name: 'b' } }]);
    assert.equal(state.items.length, 1);
    dispose();
  });
});

test('a patch the store cannot apply: the store goes back to the last good state and the channel resyncs', async () => {
  const fetch = fakeFetch(() => json(200, { topic: 't', version: 5, cursor: 'E:50', state: { rows: [{ id: 1, label: 'server' }] } }));
  const initial = { topic: 't', version: 1, cursor: 'E:1', state: { rows: [{ id: 1, label: 'one' }] } };
  const errors = [];
  await createRoot(async (dispose) => {
    const [state, { version }] = createStateChannelStore({ topic: 't', initial, EventSource: ES, fetch, onError: (e) => errors.push(e) });
    const r = state.rows[0];
    patchFrame(2, [{ op: 'replace', path: '/rows/0/label', value: 'two' }]);
    patchFrame(3, [{ op: 'replace', path: '/rows/0/label', value: 'half' }, { op: 'remove', path: '/rows/4' }]);
    assert.equal(r.label, 'two', 'the state before the bad patch');
    assert.match(String(errors[0]), /out of range|no value/);
    await until(() => version() === 5);
    assert.equal(fetch.calls[0].url, '/state/t');
    assert.equal(state.rows[0], r);
    assert.equal(r.label, 'server');
    dispose();
  });
});

test('a state frame is reconciled: unchanged rows keep their identity and their effects do not run', () => {
  const initial = { topic: 't', version: 1, cursor: 'E:1', state: { rows: rows(3), selected: null } };
  const runs = [0, 0, 0];
  const { state, version, dispose } = createRoot((dispose) => {
    const [state, { version }] = createStateChannelStore({ topic: 't', initial, EventSource: ES, fetch: noFetch });
    state.rows.forEach((r, i) => createRenderEffect(() => (void r.label, runs[i]++)));
    return { state, version, dispose };
  });
  const [r1, r2, r3] = state.rows;
  patchFrame(2, [{ op: 'replace', path: '/rows/1/label', value: 'b' }]);
  ES.last.frame('state', { topic: 't', version: 9, state: { rows: [{ id: 1, label: 'row 1' }, { id: 2, label: 'B' }, { id: 4, label: 'four' }], selected: 2 } }, 'E:9');
  assert.equal(version(), 9);
  assert.equal(state.rows[0], r1);
  assert.equal(state.rows[1], r2);
  assert.equal(r2.label, 'B');
  assert.notEqual(state.rows[2], r3);
  assert.equal(state.rows[2].label, 'four');
  assert.equal(state.selected, 2);
  assert.deepEqual(runs, [1, 3, 1], 'row 2 ran for "b" and "B", rows 1 and 3 not at all');
  // patches follow the new version
  patchFrame(10, [{ op: 'replace', path: '/rows/0/label', value: 'one' }]);
  assert.equal(r1.label, 'one');
  assert.equal(runs[0], 2);
  dispose();
});

// A small PRNG: the same sequence every run.
function prng(seed) {
  let x = seed;
  return (n) => {
    x = (x * 1103515245 + 12345) % 2147483648;
    return x % n;
  };
}

const esc = (k) => String(k).replace(/~/g, '~0').replace(/\//g, '~1');

// Every value of doc but the root: [pointer, value, parent is an array].
function locations(doc, at = '', out = []) {
  if (doc === null || typeof doc !== 'object') return out;
  const keys = Array.isArray(doc) ? doc.map((_, i) => i) : Object.keys(doc);
  for (const k of keys) {
    const p = `${at}/${esc(k)}`;
    out.push([p, doc[k], Array.isArray(doc)]);
    locations(doc[k], p, out);
  }
  return out;
}

test('applyPatchToStore against the core applyPatch: random patches of every op kind, and ops that must fail', () => {
  const rnd = prng(11);
  const pick = (a) => a[rnd(a.length)];
  let n = 0;
  const value = () => {
    switch (rnd(5)) {
      case 0:
        return `v${++n}`;
      case 1:
        return rnd(3) === 0 ? null : n++;
      case 2:
        return { id: ++n, label: `row ${n}`, tags: ['a'] };
      case 3:
        return [n++, { id: n }];
      default:
        return { [`${rnd(20)}`]: true, 'a/b~c': [1] };
    }
  };
  // A place an "add" can write: a key of an object (new or not), an index of an array (or "-").
  const addPath = (doc) => {
    const containers = [['', doc], ...locations(doc).filter(([, v]) => v !== null && typeof v === 'object').map(([p, v]) => [p, v])];
    const [p, c] = pick(containers);
    if (Array.isArray(c)) return `${p}/${rnd(4) === 0 ? '-' : rnd(c.length + 1)}`;
    const keys = Object.keys(c);
    return `${p}/${esc(keys.length && rnd(2) ? pick(keys) : pick(['k', '10', 'x~y', 'a/b', `n${rnd(50)}`]))}`;
  };
  const [store] = createStore({ rows: rows(6).map((r) => ({ ...r, tags: ['t'] })), meta: { title: 'T', 10: 'ten', 'a/b': { x: 1 } }, selected: null });
  let doc = structuredClone(unwrap(store));
  let failed = 0;
  for (let step = 0; step < 1500; step++) {
    const locs = locations(doc);
    const ops = [];
    let next = doc;
    for (let k = 1 + rnd(3); k > 0; k--) {
      const all = locations(next);
      const [p, v] = pick(all.length ? all : [['/selected', null]]);
      let op;
      switch (rnd(7)) {
        case 0:
          op = { op: 'add', path: addPath(next), value: value() };
          break;
        case 1:
          op = { op: 'remove', path: p };
          break;
        case 2:
          // the same id (reconciled into the object there) or another value
          op = { op: 'replace', path: p, value: v && typeof v === 'object' && !Array.isArray(v) && rnd(2) ? { ...structuredClone(v), label: `again ${++n}` } : value() };
          break;
        case 3: {
          const to = addPath(next);
          op = { op: 'move', from: p, path: to.startsWith(`${p}/`) ? p : to };
          break;
        }
        case 4:
          op = { op: 'copy', from: p, path: addPath(next) };
          break;
        case 5:
          op = { op: 'test', path: p, value: rnd(4) ? structuredClone(v) : 'other' };
          break;
        default:
          op = { op: 'replace', path: p, value: value() };
      }
      try {
        next = applyPatch(next, [op]);
        ops.push(op);
      } catch {
        if (ops.length === 0) {
          // an op the core refuses: the store refuses it too, and stays as it was
          assert.throws(() => applyPatchToStore(store, [op]), undefined, JSON.stringify(op));
          assert.deepEqual(structuredClone(unwrap(store)), doc, `unchanged after ${JSON.stringify(op)}`);
          failed++;
        }
        break;
      }
    }
    if (ops.length === 0) continue;
    applyPatchToStore(store, ops);
    doc = next;
    assert.deepEqual(structuredClone(unwrap(store)), doc, `step ${step}: ${JSON.stringify(ops)}`);
    if (locs.length > 150) {
      // the document grew: its rows back to four ("add" sets a key that may be gone)
      const reset = [{ op: 'add', path: '/rows', value: rows(4) }];
      applyPatchToStore(store, reset);
      doc = applyPatch(doc, reset);
    }
  }
  assert.ok(failed > 20, `ops that must fail were tried (${failed})`);
  // ops the core refuses, by hand: bad indexes, missing keys, no value
  const [s] = createStore({ rows: rows(3), meta: { a: 1 } });
  const before = structuredClone(unwrap(s));
  for (const op of [
    { op: 'replace', path: '/rows/01/label', value: 'x' },
    { op: 'replace', path: '/rows/3/label', value: 'x' },
    { op: 'replace', path: '/rows/-', value: 'x' },
    { op: 'replace', path: '/rows/1e0/label', value: 'x' },
    { op: 'add', path: '/rows/4', value: 'x' },
    { op: 'add', path: '/rows/-/label', value: 'x' },
    { op: 'replace', path: '/meta/b', value: 'x' },
    { op: 'replace', path: '/meta/a' },
    { op: 'add', path: '/meta/c' },
    { op: 'replace', path: '/meta/a/b', value: 1 },
    { op: 'remove', path: '/meta/toString' },
    { op: 'replace', path: '/meta/constructor', value: 1 },
    { op: 'remove', path: '/rows/3' },
    { op: 'replace', path: 'rows/0/label', value: 'x' },
  ]) {
    assert.throws(() => applyPatch(before, [op]), undefined, `the core refuses ${JSON.stringify(op)}`);
    assert.throws(() => applyPatchToStore(s, [op]), /PatchError|no value|not an index|needs a value|no container|bad JSON Pointer/, JSON.stringify(op));
    assert.deepEqual(structuredClone(unwrap(s)), before);
  }
});

test('createKeyedSelection: a change of the selected id re-runs the effects of the old and the new row only', () => {
  const initial = { topic: 't', version: 1, cursor: 'E:1', state: { rows: rows(1000), selected: 3 } };
  const runs = new Map(); // id → [effect runs, what it last saw]
  const { dispose } = createRoot((dispose) => {
    const [state] = createStateChannelStore({ topic: 't', initial, EventSource: ES, fetch: noFetch });
    const rowSelected = createKeyedSelection(() => state.selected);
    createMemo(
      mapArray(
        () => state.rows,
        (row) => {
          const id = row.id;
          const selected = rowSelected(id);
          createRenderEffect(() => {
            const r = runs.get(id) || [0, false];
            runs.set(id, [r[0] + 1, selected()]);
          });
        },
      ),
    );
    return { dispose };
  });
  const total = () => [...runs.values()].reduce((n, [k]) => n + k, 0);
  const shown = () => [...runs].filter(([, [, on]]) => on).map(([id]) => id);
  assert.equal(total(), 1000);
  assert.deepEqual(shown(), [3], 'a row made while its id is selected starts selected');
  patchFrame(2, [{ op: 'replace', path: '/selected', value: 700 }]);
  assert.deepEqual(shown(), [700]);
  assert.equal(total(), 1002, 'the old and the new row, nothing else');
  assert.deepEqual([runs.get(3)[0], runs.get(700)[0]], [2, 2]);
  patchFrame(3, [{ op: 'replace', path: '/selected', value: 700 }]);
  assert.equal(total(), 1002, 'the same id again: nothing');
  patchFrame(4, [{ op: 'replace', path: '/selected', value: 5000 }]);
  assert.deepEqual(shown(), [], 'an id no row has: the old row only');
  assert.equal(total(), 1003);
  // the selected row removed, then a row with its id added: it starts selected
  patchFrame(5, [{ op: 'replace', path: '/selected', value: 10 }]);
  patchFrame(6, [{ op: 'remove', path: '/rows/9' }]);
  runs.delete(10);
  patchFrame(7, [{ op: 'add', path: '/rows/-', value: { id: 10, label: 'back' } }]);
  assert.deepEqual(shown(), [10]);
  assert.equal(runs.get(10)[0], 1);
  // rows replaced and the selection changed in one patch
  runs.clear();
  patchFrame(8, [
    { op: 'replace', path: '/rows', value: [{ id: 2001, label: 'a' }, { id: 2002, label: 'b' }] },
    { op: 'replace', path: '/selected', value: 2002 },
  ]);
  assert.deepEqual(shown(), [2002]);
  patchFrame(9, [{ op: 'replace', path: '/selected', value: 2001 }]);
  assert.deepEqual(shown(), [2001]);
  dispose();
});
