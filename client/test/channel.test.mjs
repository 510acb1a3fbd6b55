import { test, beforeEach } from 'node:test';
import assert from 'node:assert/strict';
import { createStateChannel, getInitialState, StateChannelError } from '../src/index.js';
import { FakeEventSource as ES, fakeFetch, json, tick, until } from './fakes.mjs';

beforeEach(() => ES.reset());

const noFetch = fakeFetch(() => {
  throw new Error('unexpected fetch');
});

test('initial snapshot + cursor: the stream starts right after it', () => {
  const initial = { topic: 'list:a', version: 7, cursor: 'E1:42', state: { items: [] } };
  const ch = createStateChannel({ baseUrl: 'http://h/app/', topic: 'list:a', initial, EventSource: ES, fetch: noFetch });
  assert.equal(ES.instances.length, 1);
  assert.equal(ES.last.url, 'http://h/app/stream/list:a?after=E1:42');
  assert.equal(ch.getState(), initial.state);
  assert.equal(ch.getVersion(), 7);
  assert.equal(ch.status, 'connecting');
  ES.last.open();
  assert.equal(ch.status, 'open');
  // version 8 is the next one: applied; 7 and below: ignored (already in the snapshot)
  ES.last.frame('patch', { topic: 'list:a', version: 7, patch: [{ op: 'add', path: '/items/-', value: 'dup' }] }, 'E1:42');
  assert.deepEqual(ch.getState(), { items: [] });
  ES.last.frame('patch', { topic: 'list:a', version: 8, patch: [{ op: 'add', path: '/items/-', value: 'x' }] }, 'E1:43');
  assert.deepEqual(ch.getState(), { items: ['x'] });
  assert.equal(ch.getVersion(), 8);
  assert.equal(ch.getCursor(), 'E1:43');
  assert.equal(ES.instances.length, 1, 'no reconnect');
  ch.close();
  assert.equal(ch.status, 'closed');
  assert.ok(ES.last.closed);
});

test('no initial: plain stream URL, the state frame comes first and replaces', () => {
  const ch = createStateChannel({ baseUrl: '', topic: 'list:a', EventSource: ES, fetch: noFetch });
  assert.equal(ES.last.url, '/stream/list:a');
  assert.equal(ch.getState(), undefined);
  let n = 0;
  const off = ch.subscribe(() => n++);
  ES.last.open();
  ES.last.frame('state', { topic: 'list:a', version: 3, state: { items: ['a'] } }, 'E:10');
  assert.deepEqual(ch.getState(), { items: ['a'] });
  const s1 = ch.getState();
  ES.last.frame('patch', { topic: 'list:a', version: 4, patch: [{ op: 'replace', path: '/items/0', value: 'b' }] }, 'E:11');
  assert.notEqual(ch.getState(), s1);
  // a later state frame replaces everything
  ES.last.frame('state', { topic: 'list:a', version: 9, state: { items: [] } }, 'E:20');
  assert.deepEqual(ch.getState(), { items: [] });
  assert.equal(ch.getVersion(), 9);
  assert.ok(n >= 4);
  off();
  const before = n;
  ES.last.frame('patch', { topic: 'list:a', version: 10, patch: [{ op: 'add', path: '/x', value: 1 }] }, 'E:21');
  assert.equal(n, before, 'unsubscribed listener is not called');
  ch.close();
});

test('a version gap triggers a resync: GET /state, then the stream from its cursor', async () => {
  const fetch = fakeFetch((call) => {
    assert.equal(call.url, 'http://h/state/list:a');
    return json(200, { topic: 'list:a', version: 12, cursor: 'E:50', state: { items: ['fresh'] } });
  });
  const initial = { topic: 'list:a', version: 7, cursor: 'E:42', state: { items: [] } };
  const ch = createStateChannel({ baseUrl: 'http://h', topic: 'list:a', initial, EventSource: ES, fetch });
  const first = ES.last;
  first.open();
  first.frame('patch', { topic: 'list:a', version: 9, patch: [{ op: 'add', path: '/items/-', value: 'wrong' }] }, 'E:44');
  assert.deepEqual(ch.getState(), { items: [] }, 'the gap patch is not applied');
  assert.ok(first.closed, 'the old stream is closed');
  assert.equal(ch.status, 'reconnecting');
  await until(() => ES.instances.length === 2);
  assert.equal(fetch.calls.length, 1);
  assert.deepEqual(ch.getState(), { items: ['fresh'] });
  assert.equal(ch.getVersion(), 12);
  // the stream resumes right after the snapshot
  assert.equal(ES.last.query.get('after'), 'E:50');
  ES.last.open();
  ES.last.frame('patch', { topic: 'list:a', version: 12, patch: [{ op: 'add', path: '/items/-', value: 'dup' }] }, 'E:50');
  ES.last.frame('patch', { topic: 'list:a', version: 13, patch: [{ op: 'add', path: '/items/-', value: 'next' }] }, 'E:51');
  assert.deepEqual(ch.getState(), { items: ['fresh', 'next'] });
  // a patch that does not apply (bad path) also resyncs rather than guessing
  ES.last.frame('patch', { topic: 'list:a', version: 14, patch: [{ op: 'remove', path: '/nope' }] }, 'E:52');
  await until(() => ES.instances.length === 3);
  assert.equal(fetch.calls.length, 2);
  ch.close();
});

test('resync from a snapshot of another epoch: one topic resumes after it, several restart without a cursor', async () => {
  const fetch = fakeFetch(() => json(200, { topic: 't', version: 1, cursor: 'NEW:3', state: { v: 1 } }));
  const ch = createStateChannel({ topic: 't', initial: { topic: 't', version: 5, cursor: 'OLD:9', state: {} }, EventSource: ES, fetch });
  ES.last.frame('patch', { topic: 't', version: 7, patch: [] }, 'OLD:12');
  await until(() => ES.instances.length === 2);
  assert.equal(ES.last.url, '/stream/t?after=NEW:3');
  ch.close();
  ES.reset();
  const ch2 = createStateChannel({
    topics: ['t', 'u'],
    initial: { t: { version: 5, cursor: 'OLD:9', state: {} }, u: { version: 2, cursor: 'OLD:9', state: {} } },
    EventSource: ES,
    fetch,
  });
  ES.last.frame('patch', { topic: 't', version: 7, patch: [] }, 'OLD:12');
  await until(() => ES.instances.length === 2);
  assert.equal(ES.last.url, '/stream?topic=t&topic=u', 'full state frames for every topic');
  ch2.close();
});

test('several topics share one stream; getState() is keyed by topic', async () => {
  const ch = createStateChannel({
    baseUrl: 'http://h',
    topics: ['list:a', 'list:b'],
    initial: [
      { topic: 'list:a', version: 1, cursor: 'E:20', state: { n: 'a' } },
      { topic: 'list:b', version: 4, cursor: 'E:15', state: { n: 'b' } },
    ],
    EventSource: ES,
    fetch: noFetch,
  });
  assert.equal(ES.instances.length, 1);
  const q = ES.last.query;
  assert.deepEqual(q.getAll('topic'), ['list:a', 'list:b']);
  assert.equal(q.get('after'), 'E:15', 'the earliest cursor of the snapshots');
  const s0 = ch.getState();
  assert.deepEqual(s0, { 'list:a': { n: 'a' }, 'list:b': { n: 'b' } });
  assert.equal(ch.getState(), s0, 'stable between changes');
  ES.last.open();
  // b's patch 5 (seq 16) applies; a's version 1 (seq 18) is already in a's snapshot
  ES.last.frame('patch', { topic: 'list:b', version: 5, patch: [{ op: 'add', path: '/x', value: 1 }] }, 'E:16');
  ES.last.frame('patch', { topic: 'list:a', version: 1, patch: [{ op: 'add', path: '/bad', value: 1 }] }, 'E:18');
  ES.last.frame('patch', { topic: 'list:a', version: 2, patch: [{ op: 'add', path: '/y', value: 2 }] }, 'E:21');
  ES.last.frame('patch', { topic: 'other', version: 1, patch: [] }, 'E:22');
  const s1 = ch.getState();
  assert.deepEqual(s1, { 'list:a': { n: 'a', y: 2 }, 'list:b': { n: 'b', x: 1 } });
  assert.equal(ch.getState('list:b'), s1['list:b']);
  await assert.rejects(() => ch.push('add', {}), TypeError, 'push must name the topic');
  ch.close();
});

test('several topics, only some with a snapshot: the others are fetched first', async () => {
  const fetch = fakeFetch((call) => {
    assert.equal(call.url, '/state/b');
    return json(200, { topic: 'b', version: 2, cursor: 'E:30', state: { b: 2 } });
  });
  const ch = createStateChannel({ topics: ['a', 'b'], initial: { a: { version: 1, cursor: 'E:25', state: { a: 1 } } }, EventSource: ES, fetch });
  await until(() => ES.instances.length === 1);
  assert.equal(ES.last.url, '/stream?topic=a&topic=b&after=E:25');
  assert.deepEqual(ch.getState(), { a: { a: 1 }, b: { b: 2 } });
  ch.close();
});

test('push: POST /events/{topic} with a fresh id; retried on network failure with the same id', async () => {
  let n = 0;
  const fetch = fakeFetch((call) => {
    n++;
    if (n === 1) throw new TypeError('fetch failed');
    if (n === 2) return new Response('<html>bad gateway</html>', { status: 503 });
    return json(200, { topic: 'list:a', version: 8, cursor: 'E:43', patch: [{ op: 'add', path: '/items/-', value: 'Milk' }] });
  });
  const ch = createStateChannel({
    baseUrl: 'http://h',
    topic: 'list:a',
    initial: { topic: 'list:a', version: 7, cursor: 'E:42', state: { items: [] } },
    EventSource: ES,
    fetch,
    retry: { baseDelay: 1, maxDelay: 5 },
  });
  const seen = [];
  ch.subscribe(() => seen.push(ch.pending));
  const p = ch.push('add', { name: 'Milk' });
  assert.equal(ch.pending, 1);
  const answer = await p;
  assert.equal(ch.pending, 0);
  assert.ok(seen.includes(1) && seen.at(-1) === 0);
  assert.equal(answer.version, 8);
  assert.equal(fetch.calls.length, 3);
  const ids = fetch.calls.map((c) => c.body.id);
  assert.match(ids[0], /^[0-9a-f-]{36}$/);
  assert.ok(ids.every((id) => id === ids[0]), 'every retry carries the same id');
  for (const c of fetch.calls) {
    assert.equal(c.url, 'http://h/events/list:a');
    assert.equal(c.init.method, 'POST');
    assert.equal(c.init.headers['Content-Type'], 'application/json');
    assert.deepEqual(c.body, { event: 'add', payload: { name: 'Milk' }, id: ids[0] });
  }
  // the answer's patch is the next version: applied at once...
  assert.deepEqual(ch.getState(), { items: ['Milk'] });
  // ...and the same patch arriving on the stream is not applied twice
  ES.last.frame('patch', { topic: 'list:a', version: 8, patch: [{ op: 'add', path: '/items/-', value: 'Milk' }] }, 'E:43');
  assert.deepEqual(ch.getState(), { items: ['Milk'] });
  // a second push has a new id
  await ch.push('toggle', { id: 'i1' });
  assert.notEqual(fetch.calls[3].body.id, ids[0]);
  ch.close();
});

test('push: retries are bounded; the server error rejects with its code and message', async () => {
  const down = fakeFetch(() => {
    throw new TypeError('connection refused');
  });
  const ch = createStateChannel({ topic: 't', EventSource: ES, fetch: down, retry: { attempts: 3, baseDelay: 1, maxDelay: 2 } });
  await assert.rejects(ch.push('add', {}), (e) => e instanceof StateChannelError && e.code === 'network');
  assert.equal(down.calls.length, 3);
  assert.equal(ch.pending, 0);
  ch.close();

  const bad = fakeFetch(() => json(422, { error: { code: 'bad_name', message: 'the name is empty' } }));
  const ch2 = createStateChannel({ topic: 't', EventSource: ES, fetch: bad });
  await assert.rejects(ch2.push('add', { name: ' ' }), (e) => {
    assert.ok(e instanceof StateChannelError);
    assert.equal(e.code, 'bad_name');
    assert.equal(e.message, 'the name is empty');
    assert.equal(e.status, 422);
    return true;
  });
  assert.equal(bad.calls.length, 1, 'a 422 is not retried');
  ch2.close();
});

test('push with an explicit id and topic; answers for an old version are not applied', async () => {
  const fetch = fakeFetch(() => json(200, { topic: 'b', version: 3, cursor: 'E:9', patch: [{ op: 'add', path: '/z', value: 1 }] }));
  const ch = createStateChannel({ topics: ['a', 'b'], initial: { a: { version: 1, cursor: 'E:9', state: {} }, b: { version: 5, cursor: 'E:9', state: {} } }, EventSource: ES, fetch });
  await ch.push('e', null, { topic: 'b', id: 'my-id' });
  assert.equal(fetch.calls[0].url, '/events/b');
  assert.deepEqual(fetch.calls[0].body, { event: 'e', payload: null, id: 'my-id' });
  assert.deepEqual(ch.getState('b'), {}, 'a replayed answer (version 3 < 5) changes nothing');
  ch.close();
});

test('status: reconnecting on errors; a closed EventSource is reopened from the last cursor', async () => {
  const ch = createStateChannel({ topic: 't', EventSource: ES, fetch: noFetch, reconnect: { baseDelay: 1, maxDelay: 2 } });
  const statuses = [];
  ch.subscribe(() => statuses.push(ch.status));
  ES.last.open();
  ES.last.frame('state', { topic: 't', version: 1, state: { a: 1 } }, 'E:5');
  ES.last.fail(false); // the browser reconnects itself (Last-Event-ID)
  assert.equal(ch.status, 'reconnecting');
  assert.equal(ES.instances.length, 1);
  ES.last.open();
  ES.last.frame('patch', { topic: 't', version: 2, patch: [{ op: 'replace', path: '/a', value: 2 }] }, 'E:6');
  ES.last.fail(true); // e.g. a 503 while the app restarts: the browser gives up
  await until(() => ES.instances.length === 2);
  assert.equal(ES.last.url, '/stream/t?after=E:6');
  ES.last.open();
  assert.deepEqual(statuses.filter((s, i) => s !== statuses[i - 1] && typeof s === 'string'), [
    'open',
    'reconnecting',
    'open',
    'reconnecting',
    'open',
  ]);
  ch.close();
  assert.equal(ch.status, 'closed');
  ES.instances[1].fail(true);
  await tick(10);
  assert.equal(ES.instances.length, 2, 'nothing reopens after close()');
});

test('autoConnect: false opens nothing until connect(); connect after close resumes', () => {
  const ch = createStateChannel({ topic: 't', initial: { topic: 't', version: 1, cursor: 'E:1', state: {} }, EventSource: ES, fetch: noFetch, autoConnect: false });
  assert.equal(ES.instances.length, 0);
  ch.connect();
  ch.connect();
  assert.equal(ES.instances.length, 1);
  ES.last.frame('patch', { topic: 't', version: 2, patch: [{ op: 'add', path: '/a', value: 1 }] }, 'E:3');
  ch.close();
  ch.connect();
  assert.equal(ES.instances.length, 2);
  assert.equal(ES.last.url, '/stream/t?after=E:3');
  ch.close();
});

test('getInitialState: GET /state/{topic} forwarding headers; errors carry the code', async () => {
  const fetch = fakeFetch((call) => {
    if (call.url.endsWith('/nope')) return json(404, { error: { code: 'no_topic', message: 'no such topic' } });
    return json(200, { topic: 'list:a', version: 1, cursor: 'E:1', state: { items: [] } });
  });
  const a = await getInitialState('http://h/', 'list:a', { headers: { cookie: 'sid=1', authorization: undefined }, fetch });
  assert.equal(a.version, 1);
  assert.equal(fetch.calls[0].url, 'http://h/state/list:a');
  assert.equal(fetch.calls[0].init.headers.cookie, 'sid=1');
  assert.ok(!('authorization' in fetch.calls[0].init.headers));
  await assert.rejects(getInitialState('http://h', 'nope', { fetch }), (e) => e.status === 404 && e.code === 'no_topic');
  const both = await getInitialState('http://h', ['list:a', 'list:a'], { fetch });
  assert.equal(both.length, 2);
});
