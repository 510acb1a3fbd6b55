// The Solid adapter's cases; run by solid.test.mjs under --conditions=browser.
import { test, beforeEach } from 'node:test';
import assert from 'node:assert/strict';
import { createRoot, createRenderEffect, mapArray, createMemo } from 'solid-js';
import { createStore, unwrap } from 'solid-js/store';
import { createStateChannelStore, applyPatchToStore } from '../src/solid.js';
import { applyPatch } from '../src/index.js';
import { FakeEventSource as ES, fakeFetch, json, until } from './fakes.mjs';

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

// A channel with optimistic changes (the shape of the core's pending list):
// a state change without a patch is reconciled; pending is passed through.
test('a given channel: its pending list is passed through, a change without a patch is reconciled', () => {
  let state = { items: [{ id: 1, name: 'a' }] };
  let pending = [];
  const listeners = new Set();
  const patchListeners = new Set();
  const channel = {
    topics: ['t'],
    getState: () => state,
    getVersion: () => 1,
    status: 'open',
    get pending() {
      return pending;
    },
    subscribe: (l) => (listeners.add(l), () => listeners.delete(l)),
    onPatch: (l) => (patchListeners.add(l), () => patchListeners.delete(l)),
    onState: () => () => {},
    push: async () => ({}),
    close() {
      throw new Error('a given channel is not closed');
    },
  };
  createRoot((dispose) => {
    const [s, { pending: p }] = createStateChannelStore({ channel });
    assert.deepEqual(p(), []);
    const item = s.items[0];
    // an optimistic change: new state, a pending entry, no patch
    state = { items: [{ id: 1, name: 'a' }, { id: 2, name: 'optimistic' }] };
    pending = [{ id: 'm1', status: 'sending' }];
    for (const l of listeners) l();
    assert.deepEqual(structuredClone(unwrap(s)), state);
    assert.equal(s.items[0], item, 'reconciled, not replaced');
    assert.equal(p()[0].status, 'sending');
    // a server patch while a change is pending: not applied as is (the
    // channel rebases); the notification reconciles to what it shows
    for (const l of patchListeners) l({ topic: 't', version: 2, patch: [{ op: 'remove', path: '/items/0' }] });
    assert.equal(s.items.length, 2);
    dispose();
  });
});
