// lazyState: the channel keeps the patches it is given and builds the state
// when something reads it (what statechannel-client/solid uses: its store
// applies the patches itself).  Everything it shows must be what the eager
// channel shows: versions, gaps and resyncs, answers, optimistic updates.
import { test, beforeEach } from 'node:test';
import assert from 'node:assert/strict';
import { createStateChannel, applyPatch } from '../src/index.js';
import { FakeEventSource as ES, fakeFetch, json, tick, until } from './fakes.mjs';

beforeEach(() => ES.reset());

const rows = (n) => Array.from({ length: n }, (_, i) => ({ id: i + 1, label: `row ${i + 1}` }));
const initial = (state, version = 1) => ({ topic: 't', version, cursor: 'E:1', state });
let seq = 0;
const frame = (es, version, patch) => es.frame('patch', { topic: 't', version, patch }, `E:${++seq}`);

// A small PRNG: the same sequence every run.
function prng(seed) {
  let x = seed;
  return (n) => {
    x = (x * 1103515245 + 12345) % 2147483648;
    return x % n;
  };
}

// A random valid patch of 1..3 ops on a { rows, selected } state.
function randomPatch(state, rnd) {
  const ops = [];
  let s = state;
  for (let k = 1 + rnd(3); k > 0; k--) {
    const n = s.rows.length;
    const r = rnd(6);
    let op;
    if (r === 0 || n === 0) op = { op: 'add', path: `/rows/${rnd(n + 1)}`, value: { id: 1000 + rnd(100000), label: 'new' } };
    else if (r === 1) op = { op: 'remove', path: `/rows/${rnd(n)}` };
    else if (r === 2) op = { op: 'replace', path: '/selected', value: rnd(n) };
    else if (r === 3) op = { op: 'move', from: `/rows/${rnd(n)}`, path: `/rows/${rnd(n)}` };
    else op = { op: 'replace', path: `/rows/${rnd(n)}/label`, value: `l${rnd(1000)}` };
    ops.push(op);
    s = applyPatch(s, [op]);
  }
  return { ops, next: s };
}

test('lazyState shows what the eager channel shows: every read, after any number of patches', () => {
  const rnd = prng(7);
  const start = { rows: rows(50), selected: null };
  const eager = createStateChannel({ topic: 't', initial: initial(start), EventSource: ES, fetch: () => new Promise(() => {}), share: false });
  const esE = ES.last;
  const lazy = createStateChannel({ topic: 't', initial: initial(start), EventSource: ES, fetch: () => new Promise(() => {}), share: false, lazyState: true });
  const esL = ES.last;
  const patches = [];
  lazy.onPatch((c) => patches.push(c));
  let s = start;
  let prevRead = lazy.getState();
  for (let v = 2; v < 400; v++) {
    const { ops, next } = randomPatch(s, rnd);
    s = next;
    frame(esE, v, ops);
    frame(esL, v, ops);
    assert.equal(lazy.getVersion(), v);
    assert.deepEqual(patches.at(-1).patch, ops, 'onPatch has the patch');
    if (rnd(4) === 0) {
      const got = lazy.getState();
      assert.deepEqual(got, eager.getState(), `version ${v}`);
      assert.equal(lazy.getConfirmedState(), got);
      assert.equal(lazy.getState(), got, 'the same object until the next patch');
      // structural sharing with the state read before: untouched rows are the same objects
      const before = new Set(prevRead.rows);
      const kept = got.rows.filter((r) => before.has(r)).length;
      assert.ok(kept > 0 || got.rows.length === 0, 'untouched rows keep their identity');
      prevRead = got;
    }
  }
  assert.deepEqual(lazy.getState(), s);
  assert.equal(Object.isFrozen(start.rows), false);
  assert.deepEqual(start.rows, rows(50), 'the first state is untouched');
  eager.close();
  lazy.close();
});

test('lazyState: nothing is applied until read, then a bad patch is found: the state before it, and a resync', async () => {
  const fetch = fakeFetch(() => json(200, { topic: 't', version: 6, cursor: 'E:60', state: { rows: rows(1), selected: 1 } }));
  const errors = [];
  const ch = createStateChannel({ topic: 't', initial: initial({ rows: rows(2), selected: null }), EventSource: ES, fetch, share: false, lazyState: true, onError: (e) => errors.push(e) });
  const es = ES.last;
  frame(es, 2, [{ op: 'replace', path: '/selected', value: 2 }]);
  frame(es, 3, [{ op: 'remove', path: '/rows/7' }]); // does not apply
  frame(es, 4, [{ op: 'replace', path: '/selected', value: 1 }]);
  await tick();
  assert.equal(fetch.calls.length, 0, 'kept, not applied: nothing noticed yet');
  assert.equal(ch.getVersion(), 4);
  // the read builds it: version 2's state, and a resync
  assert.deepEqual(ch.getState(), { rows: rows(2), selected: 2 });
  assert.equal(ch.getVersion(), 2);
  assert.equal(errors.length, 1);
  await until(() => ch.getVersion() === 6);
  assert.equal(fetch.calls[0].url, '/state/t');
  assert.deepEqual(ch.getState(), { rows: rows(1), selected: 1 });
  ch.close();
});

test('lazyState: a patch that is not an array resyncs at once; a gap resyncs as before', async () => {
  let n = 0;
  const fetch = fakeFetch(() => json(200, { topic: 't', version: 10 * ++n, cursor: `E:${100 * n}`, state: { rows: [], selected: n } }));
  const ch = createStateChannel({ topic: 't', initial: initial({ rows: [], selected: 0 }), EventSource: ES, fetch, share: false, lazyState: true, onError: () => {} });
  ES.last.frame('patch', { topic: 't', version: 2, patch: { op: 'remove' } }, 'E:2');
  await until(() => ch.getVersion() === 10);
  assert.equal(ES.last.query.get('after'), 'E:100');
  frame(ES.last, 12, [{ op: 'replace', path: '/selected', value: 5 }]); // 11 is missing
  await until(() => ch.getVersion() === 20);
  assert.equal(fetch.calls.length, 2);
  assert.deepEqual(ch.getState(), { rows: [], selected: 2 });
  ch.close();
});

test('lazyState keeps a bounded number of patch operations: past the limit the state is built after the frame', async () => {
  const fetch = fakeFetch(() => json(200, { topic: 't', version: 100, cursor: 'E:1000', state: { rows: [], selected: null } }));
  const ch = createStateChannel({ topic: 't', initial: initial({ rows: rows(10), selected: null }), EventSource: ES, fetch, share: false, lazyState: true, onError: () => {} });
  const es = ES.last;
  frame(es, 2, [{ op: 'remove', path: '/rows/99' }]); // does not apply: found only when built
  const ops = Array.from({ length: 100 }, (_, i) => ({ op: 'replace', path: '/selected', value: i }));
  let v = 3;
  while (fetch.calls.length === 0 && v < 200) {
    frame(es, v++, ops);
    await tick();
  }
  assert.equal(fetch.calls.length, 1, 'built (and the bad patch found) with nobody reading');
  assert.ok(v > 40 && v < 50, `after about 4,096 operations (${v - 3} patches of 100)`);
  ch.close();
});

test('lazyState with optimistic updates: predictions on the built state, answers, a rollback, as the eager channel', async () => {
  const mutators = { select: (s, p) => ({ ...s, selected: p.id }), add: (s, p) => [{ op: 'add', path: '/rows/-', value: { id: p.id, label: 'mine' } }] };
  const start = { rows: rows(3), selected: null };
  const channels = [false, true].map((lazyState) => {
    const waiting = [];
    const fetch = fakeFetch(() => new Promise((resolve) => waiting.push(resolve)));
    const ch = createStateChannel({ topic: 't', initial: initial(start), EventSource: ES, fetch, share: false, lazyState, mutators, holdMs: 0 });
    return { ch, es: ES.last, waiting };
  });
  const all = async (fn) => {
    for (const c of channels) await fn(c);
    await tick();
  };
  const same = (what) => {
    const [e, l] = channels.map((c) => c.ch);
    assert.deepEqual(l.getState(), e.getState(), `${what}: getState`);
    assert.deepEqual(l.getConfirmedState(), e.getConfirmedState(), `${what}: confirmed`);
    assert.equal(l.getVersion(), e.getVersion(), `${what}: version`);
    assert.equal(l.isOptimistic(), e.isOptimistic(), `${what}: isOptimistic`);
    assert.deepEqual(l.getPendingEvents().map((p) => p.status), e.getPendingEvents().map((p) => p.status), `${what}: pending`);
  };
  const pushes = [];
  await all((c) => pushes.push(c.ch.push('select', { id: 2 }).catch((e) => e)));
  same('a prediction');
  assert.equal(channels[1].ch.getState().selected, 2);
  assert.equal(channels[1].ch.isOptimistic(), true);
  await all((c) => frame(c.es, 2, [{ op: 'replace', path: '/rows/0/label', value: 'other' }]));
  same('a patch from the stream under it');
  await all((c) => pushes.push(c.ch.push('add', { id: 9 }).catch((e) => e)));
  same('two predictions');
  // the first is confirmed by its answer, the second refused
  await all((c) => c.waiting[0](json(200, { topic: 't', version: 3, cursor: 'E:3', patch: [{ op: 'replace', path: '/selected', value: 2 }] })));
  same('an answer');
  await all((c) => c.waiting[1](json(422, { error: { code: 'no', message: 'refused' } })));
  same('a rollback');
  assert.deepEqual(channels[1].ch.getState(), { rows: [{ id: 1, label: 'other' }, ...rows(3).slice(1)], selected: 2 });
  assert.equal(channels[1].ch.isOptimistic(), false);
  // a stream patch after them, and the answer's own frame ignored by version
  await all((c) => {
    frame(c.es, 3, [{ op: 'replace', path: '/selected', value: 2 }]);
    frame(c.es, 4, [{ op: 'remove', path: '/rows/2' }]);
  });
  same('the stream again');
  assert.equal(channels[1].ch.getState().rows.length, 2);
  for (const c of channels) c.ch.close();
});
