// Optimistic updates, one rule at a time: mutators, rebase on the
// confirmed state, rejection, the pending list.
import { test, beforeEach } from 'node:test';
import assert from 'node:assert/strict';
import { createStateChannel, StateChannelError } from '../src/index.js';
import { FakeEventSource as ES, fakeFetch, heldFetch, json, tick, until } from './fakes.mjs';

beforeEach(() => ES.reset());

const item = (id, name, bought = false) => ({ id, name, bought });
const start = (items = [], version = 1, next = items.length + 1) => ({ topic: 'l', version, cursor: 'E:10', state: { items, next_id: next } });

// The shopping list's mutators (what the demo ships), written as the
// server does it; they never change what they are given.
const mutators = {
  add: (s, p) => ({ ...s, items: [...s.items, item(`i${s.next_id}`, p.name.trim())], next_id: s.next_id + 1 }),
  toggle: (s, p) => ({ ...s, items: s.items.map((it) => (it.id === p.id ? { ...it, bought: !it.bought } : it)) }),
  rename(s, p) {
    const i = s.items.findIndex((it) => it.id === p.id);
    return i < 0 ? undefined : [{ op: 'replace', path: `/items/${i}/name`, value: p.name }];
  },
};

const ok = (version, patch, seq = 10 + version) => json(200, { topic: 'l', version, cursor: `E:${seq}`, patch });
const names = (ch) => ch.getState().items.map((i) => `${i.name}${i.bought ? '*' : ''}`);

function deepFreeze(v) {
  if (v !== null && typeof v === 'object') {
    Object.freeze(v);
    for (const k of Object.keys(v)) deepFreeze(v[k]);
  }
  return v;
}

test('a mutator shows the event at once: getState and subscribers, before any answer', async () => {
  const fetch = heldFetch();
  const ch = createStateChannel({ topic: 'l', initial: start(), EventSource: ES, fetch, mutators });
  const seen = [];
  ch.subscribe(() => seen.push(names(ch)));
  const confirmed = ch.getConfirmedState();
  const p = ch.push('add', { name: ' Milk ' });
  // synchronously, before push returned control to the event loop
  assert.deepEqual(names(ch), ['Milk']);
  assert.deepEqual(seen.at(-1), ['Milk']);
  assert.equal(ch.getConfirmedState(), confirmed, 'the confirmed state is untouched');
  assert.deepEqual(confirmed.items, []);
  assert.equal(typeof p.id, 'string');
  assert.equal(ch.getEventStatus(p.id), 'sending');
  assert.deepEqual(
    ch.pendingEvents.map((e) => [e.id, e.event, e.status]),
    [[p.id, 'add', 'sending']],
  );
  assert.equal(ch.pending, 1);
  // the server agrees: its patch replaces the prediction; confirmed
  await fetch.answer(0, ok(2, [{ op: 'add', path: '/items/-', value: item('i1', 'Milk') }, { op: 'replace', path: '/next_id', value: 2 }]));
  assert.equal((await p).version, 2);
  assert.deepEqual(names(ch), ['Milk']);
  assert.equal(ch.getState(), ch.getConfirmedState(), 'nothing pending: the visible state is the server one');
  assert.equal(ch.pendingEvents.length, 0);
  assert.equal(ch.pending, 0);
  assert.ok(ch.isConfirmed(p.id));
  assert.equal(ch.getEventStatus(p.id), 'confirmed');
  ch.close();
});

test('the server result wins over the prediction', async () => {
  const fetch = heldFetch();
  const ch = createStateChannel({ topic: 'l', initial: start(), EventSource: ES, fetch, mutators });
  const p = ch.push('add', { name: 'Milk' });
  assert.deepEqual(ch.getState().items, [item('i1', 'Milk')]);
  // the server named it differently and gave it another id
  await fetch.answer(0, ok(2, [{ op: 'add', path: '/items/-', value: item('i7', 'MILK') }, { op: 'replace', path: '/next_id', value: 8 }]));
  await p;
  assert.deepEqual(ch.getState().items, [item('i7', 'MILK')]);
  ch.close();
});

test('a mutator may return a JSON Patch; undefined means no change; events without a mutator wait for the server', async () => {
  const fetch = heldFetch();
  const ch = createStateChannel({ topic: 'l', initial: start([item('i1', 'Tea')]), EventSource: ES, fetch, mutators });
  const s0 = ch.getState();
  ch.push('rename', { id: 'i1', name: 'Green tea' });
  assert.deepEqual(names(ch), ['Green tea']);
  ch.push('rename', { id: 'nope', name: 'x' });
  assert.deepEqual(names(ch), ['Green tea']);
  const before = ch.getState();
  ch.push('clear_bought', {}); // no mutator
  assert.equal(ch.getState(), before, 'no mutator: nothing changes until the server says so');
  assert.deepEqual(s0.items, [item('i1', 'Tea')], 'the given state was not changed');
  ch.close();
});

test('a mutator that throws (e.g. changes its frozen input) is reported and counts as no prediction', async () => {
  const fetch = heldFetch();
  const errors = [];
  const bad = {
    ...mutators,
    toggle(s, p) {
      s.items.find((i) => i.id === p.id).bought = true; // mutates: throws on a frozen state
      return s;
    },
  };
  const ch = createStateChannel({ topic: 'l', initial: deepFreeze(start([item('i1', 'Tea')])), EventSource: ES, fetch, mutators: bad, onError: (e) => errors.push(e) });
  ch.push('toggle', { id: 'i1' });
  ch.push('add', { name: 'Jam' });
  assert.deepEqual(names(ch), ['Tea', 'Jam'], 'the later prediction is still shown, the broken one is not');
  assert.equal(errors.length, 1);
  assert.ok(errors[0] instanceof TypeError);
  // replays (a remote patch) do not report it again
  ES.last.frame('patch', { topic: 'l', version: 2, patch: [{ op: 'add', path: '/items/-', value: item('i9', 'Remote') }] }, 'E:11');
  await tick(5);
  assert.equal(errors.length, 1);
  ch.close();
});

test('a remote patch while an event is pending is rebased: the prediction stays on top, no flicker', async () => {
  const fetch = heldFetch();
  const ch = createStateChannel({ topic: 'l', initial: start([item('i1', 'Tea')]), EventSource: ES, fetch, mutators, holdMs: 0 });
  const seen = [];
  ch.subscribe(() => seen.push(names(ch).join(',')));
  const p = ch.push('toggle', { id: 'i1' });
  assert.deepEqual(names(ch), ['Tea*']);
  // another user's add arrives first
  ES.last.frame('patch', { topic: 'l', version: 2, patch: [{ op: 'add', path: '/items/-', value: item('i2', 'Bread') }, { op: 'replace', path: '/next_id', value: 3 }] }, 'E:12');
  assert.deepEqual(names(ch), ['Tea*', 'Bread']);
  assert.deepEqual(ch.getConfirmedState().items, [item('i1', 'Tea'), item('i2', 'Bread')]);
  await fetch.answer(0, ok(3, [{ op: 'replace', path: '/items/0/bought', value: true }], 13));
  await p;
  assert.deepEqual(names(ch), ['Tea*', 'Bread']);
  assert.ok(
    seen.every((s) => s.startsWith('Tea*')),
    `every state shown has the toggle: ${seen}`,
  );
  ch.close();
});

test('hold: the stream frame of our own event before its answer is not shown under its prediction', async () => {
  const fetch = heldFetch();
  const ch = createStateChannel({ topic: 'l', initial: start([item('i1', 'Tea')]), EventSource: ES, fetch, mutators });
  const seen = [];
  ch.subscribe(() => seen.push(names(ch).join(',')));
  const p = ch.push('toggle', { id: 'i1' });
  // the stream brings the toggle itself before the POST answer
  ES.last.frame('patch', { topic: 'l', version: 2, patch: [{ op: 'replace', path: '/items/0/bought', value: true }] }, 'E:12');
  assert.deepEqual(ch.getConfirmedState().items, [item('i1', 'Tea', true)]);
  assert.deepEqual(names(ch), ['Tea*'], 'not toggled back (the frame under the prediction)');
  await fetch.answer(0, ok(2, [{ op: 'replace', path: '/items/0/bought', value: true }], 12));
  await p;
  assert.deepEqual(names(ch), ['Tea*']);
  assert.equal(ch.getState(), ch.getConfirmedState());
  assert.ok(
    seen.every((s) => s === 'Tea*'),
    `never shown unbought: ${seen}`,
  );
  ch.close();
});

test('hold ends after holdMs when the answer does not come: remote changes show', async () => {
  const fetch = heldFetch();
  const ch = createStateChannel({ topic: 'l', initial: start([item('i1', 'Tea')]), EventSource: ES, fetch, mutators, holdMs: 20 });
  ch.push('rename', { id: 'i1', name: 'Green tea' });
  ES.last.frame('patch', { topic: 'l', version: 2, patch: [{ op: 'add', path: '/items/-', value: item('i2', 'Bread') }] }, 'E:12');
  assert.deepEqual(names(ch), ['Green tea']);
  await until(() => ch.getState().items.length === 2);
  assert.deepEqual(names(ch), ['Green tea', 'Bread'], 'rebased on the new confirmed state');
  ch.close();
});

test('a 422 drops the event: push rejects, its prediction goes, later events stay; failed until cleared', async () => {
  const fetch = heldFetch();
  const ch = createStateChannel({ topic: 'l', initial: start([item('i1', 'Tea')]), EventSource: ES, fetch, mutators });
  const a = ch.push('rename', { id: 'i1', name: '' });
  const b = ch.push('add', { name: 'Jam' });
  assert.deepEqual(names(ch), ['', 'Jam']);
  const rejected = assert.rejects(a, (e) => e instanceof StateChannelError && e.code === 'bad_name' && e.status === 422);
  await fetch.answer(0, json(422, { error: { code: 'bad_name', message: 'the name is empty' } }));
  await rejected;
  assert.deepEqual(names(ch), ['Tea', 'Jam'], 'rolled back, the later add replayed without it');
  const failed = ch.pendingEvents.find((e) => e.id === a.id);
  assert.equal(failed.status, 'failed');
  assert.equal(failed.error.message, 'the name is empty');
  assert.equal(ch.getEventStatus(a.id), 'failed');
  assert.equal(ch.pending, 1, 'only the add is still in flight');
  await fetch.answer(1, ok(2, [{ op: 'add', path: '/items/-', value: item('i2', 'Jam') }, { op: 'replace', path: '/next_id', value: 3 }]));
  await b;
  assert.deepEqual(
    ch.pendingEvents.map((e) => e.status),
    ['failed'],
    'the failure stays until the application clears it',
  );
  const list = ch.pendingEvents;
  ch.clearFailed(a.id);
  assert.notEqual(ch.pendingEvents, list);
  assert.equal(ch.pendingEvents.length, 0);
  assert.equal(ch.getEventStatus(a.id), undefined);
  ch.close();
});

test('answers that come out of order are kept and applied once the version before them is there', async () => {
  const fetch = heldFetch();
  const ch = createStateChannel({ topic: 'l', initial: start(), EventSource: ES, fetch, mutators });
  const a = ch.push('add', { name: 'A' });
  const b = ch.push('add', { name: 'B' });
  assert.deepEqual(names(ch), ['A', 'B']);
  // the server stored B first (version 2) then A (version 3); A's answer comes first
  await fetch.answer(0, ok(3, [{ op: 'add', path: '/items/-', value: item('i2', 'A') }, { op: 'replace', path: '/next_id', value: 3 }]));
  await a;
  assert.equal(ch.getEventStatus(a.id), 'answered');
  assert.deepEqual(names(ch), ['A', 'B'], 'still predicted');
  await fetch.answer(1, ok(2, [{ op: 'add', path: '/items/-', value: item('i1', 'B') }, { op: 'replace', path: '/next_id', value: 2 }]));
  await b;
  assert.equal(ch.getVersion(), 3, "A's buffered answer applied after B's");
  assert.deepEqual(names(ch), ['B', 'A'], "the server's order");
  assert.ok(ch.isConfirmed(a.id) && ch.isConfirmed(b.id));
  assert.equal(ch.getState(), ch.getConfirmedState());
  ch.close();
});

test('applyAnswers: false: an answered event stays predicted until the stream reaches its version', async () => {
  const fetch = heldFetch();
  const ch = createStateChannel({ topic: 'l', initial: start(), EventSource: ES, fetch, mutators, applyAnswers: false });
  const p = ch.push('add', { name: 'A' });
  await fetch.answer(0, ok(2, [{ op: 'add', path: '/items/-', value: item('i1', 'A') }]));
  await p;
  assert.equal(ch.getEventStatus(p.id), 'answered');
  assert.deepEqual(ch.getConfirmedState().items, []);
  assert.deepEqual(names(ch), ['A']);
  ES.last.frame('patch', { topic: 'l', version: 2, patch: [{ op: 'add', path: '/items/-', value: item('i1', 'A') }, { op: 'replace', path: '/next_id', value: 2 }] }, 'E:12');
  assert.ok(ch.isConfirmed(p.id));
  assert.deepEqual(names(ch), ['A']);
  assert.equal(ch.getState(), ch.getConfirmedState());
  ch.close();
});

test('a resync (full state frame) keeps the pending events on top and confirms the answered ones it holds', async () => {
  const fetch = heldFetch();
  const ch = createStateChannel({ topic: 'l', initial: start(), EventSource: ES, fetch, mutators, applyAnswers: false, holdMs: 0 });
  const a = ch.push('add', { name: 'A' });
  await fetch.answer(0, ok(2, []));
  await a;
  ch.push('add', { name: 'B' });
  ES.last.frame('state', { topic: 'l', version: 5, state: { items: [item('i1', 'A'), item('i2', 'X')], next_id: 3 } }, 'E:30');
  assert.ok(ch.isConfirmed(a.id), 'version 5 holds version 2');
  assert.deepEqual(names(ch), ['A', 'X', 'B'], 'B replayed on the new state');
  assert.deepEqual(
    ch.getState().items.map((i) => i.id),
    ['i1', 'i2', 'i3'],
  );
  ch.close();
});

test('a state frame from another database forgets the answered events (their versions mean nothing there)', async () => {
  const fetch = heldFetch();
  const ch = createStateChannel({ topic: 'l', initial: start([], 40), EventSource: ES, fetch, mutators, applyAnswers: false });
  const a = ch.push('add', { name: 'A' });
  await fetch.answer(0, ok(41, []));
  await a;
  ES.last.frame('state', { topic: 'l', version: 1, state: { items: [], next_id: 1 } }, 'NEW:1');
  assert.equal(ch.getEventStatus(a.id), undefined);
  assert.equal(ch.pendingEvents.length, 0);
  assert.deepEqual(names(ch), []);
  ch.close();
});

test('an event that changed nothing is confirmed by its own answer', async () => {
  const fetch = heldFetch();
  const ch = createStateChannel({ topic: 'l', initial: start([item('i1', 'Tea')], 4), EventSource: ES, fetch, mutators });
  const p = ch.push('rename', { id: 'i1', name: 'Tea' });
  await fetch.answer(0, ok(4, []));
  await p;
  assert.ok(ch.isConfirmed(p.id));
  assert.equal(ch.pendingEvents.length, 0);
  ch.close();
});

test('pushed before the first state: the prediction appears with the state', async () => {
  const fetch = heldFetch();
  const ch = createStateChannel({ topic: 'l', EventSource: ES, fetch, mutators });
  ch.push('add', { name: 'Early' });
  assert.equal(ch.getState(), undefined);
  ES.last.frame('state', { topic: 'l', version: 3, state: { items: [], next_id: 4 } }, 'E:3');
  assert.deepEqual(ch.getState().items, [item('i4', 'Early')]);
  ch.close();
});

test('several topics: a prediction changes its topic only; getState() keyed is renewed', async () => {
  const fetch = heldFetch();
  const ch = createStateChannel({
    topics: ['a', 'b'],
    initial: { a: { version: 1, cursor: 'E:1', state: { items: [], next_id: 1 } }, b: { version: 1, cursor: 'E:1', state: { items: [], next_id: 1 } } },
    EventSource: ES,
    fetch,
    mutators,
  });
  const k0 = ch.getState();
  ch.push('add', { name: 'x' }, { topic: 'b' });
  const k1 = ch.getState();
  assert.notEqual(k1, k0);
  assert.equal(k1.a, k0.a);
  assert.deepEqual(k1.b.items, [item('i1', 'x')]);
  assert.equal(ch.getConfirmedState('b'), k0.b);
  ch.close();
});

test('a push that is retried shows "retrying" and keeps its prediction; after the last attempt it fails and rolls back', async () => {
  const fetch = fakeFetch(() => new Response('<html>502</html>', { status: 502 }));
  const ch = createStateChannel({ topic: 'l', initial: start(), EventSource: ES, fetch, mutators, retry: { attempts: 3, baseDelay: 1, maxDelay: 1 } });
  const statuses = [];
  ch.subscribe(() => statuses.push(ch.pendingEvents[0]?.status));
  const p = ch.push('add', { name: 'A' });
  await assert.rejects(p, (e) => e.code === 'http_502');
  assert.equal(fetch.calls.length, 3);
  assert.ok(statuses.includes('retrying'));
  assert.equal(statuses.at(-1), 'failed');
  assert.deepEqual(names(ch), []);
  ch.close();
});
