// The sharing protocol (src/shared.js) with fakes: several "tabs" in one
// process, each with its own channel and link, over a fake BroadcastChannel
// and fake Web Locks (leader mode) or a fake SharedWorker (worker mode); the
// one real stream is a FakeEventSource.
import { test, beforeEach } from 'node:test';
import assert from 'node:assert/strict';
import { createStateChannel } from '../src/index.js';
import { createSharedLink, serveSharedWorker, streamTopics } from '../src/shared.js';
import { FakeEventSource as ES, fakeFetch, json, tick, until } from './fakes.mjs';

beforeEach(() => ES.reset());

// ---- fakes of the browser's sharing APIs ----

function fakeBroadcast() {
  const bus = new Map(); // name → Set of instances
  return class FakeBroadcastChannel {
    constructor(name) {
      this.name = name;
      this.onmessage = null;
      if (!bus.has(name)) bus.set(name, new Set());
      bus.get(name).add(this);
    }
    postMessage(msg) {
      const copy = structuredClone(msg);
      for (const other of bus.get(this.name)) if (other !== this) setTimeout(() => other.onmessage && !other.closed && other.onmessage({ data: copy }), 0);
    }
    close() {
      this.closed = true;
      bus.get(this.name).delete(this);
    }
  };
}

function fakeLocks() {
  const held = new Map(); // name → queue of waiting grants
  const busy = new Set();
  function grant(name) {
    const q = held.get(name);
    if (busy.has(name) || !q || q.length === 0) return;
    const cb = q.shift();
    busy.add(name);
    Promise.resolve()
      .then(cb)
      .finally(() => {
        busy.delete(name);
        grant(name);
      });
  }
  return {
    request(name, cb) {
      if (!held.has(name)) held.set(name, []);
      held.get(name).push(cb);
      grant(name);
      return Promise.resolve();
    },
  };
}

const live = () => ES.instances.filter((e) => !e.closed);

function world(snapshot = (topic) => ({ topic, version: 1, cursor: 'E:5', state: { topic, n: 0 } })) {
  const BroadcastChannel = fakeBroadcast();
  const locks = fakeLocks();
  const fetch = fakeFetch((call) => json(200, snapshot(decodeURIComponent(call.url.split('/state/')[1]))));
  const tabs = [];
  const tab = (topics, more = {}) => {
    const link = createSharedLink('http://h/app', { mode: 'leader', BroadcastChannel, locks, EventSource: ES, fetch, debounce: 5 });
    const ch = createStateChannel({ baseUrl: 'http://h/app', topics, share: link, fetch, ...more });
    const seen = [];
    ch.subscribe(() => {
      for (const t of topics) {
        const v = ch.getVersion(t);
        if (v !== undefined && seen.at(-1)?.[t] !== v) seen.push({ ...Object.fromEntries(topics.map((x) => [x, ch.getVersion(x)])) });
      }
    });
    const me = { link, ch, seen, topics };
    tabs.push(me);
    return me;
  };
  return { tab, fetch, tabs };
}

const patch = (topic, version, n, seq) => ['patch', { topic, version, patch: [{ op: 'replace', path: '/n', value: n }] }, `E:${seq}`];

test('streamTopics reads the topics of a stream URL', () => {
  assert.deepEqual(streamTopics('http://h/app/stream/list:a?after=E:1'), ['list:a']);
  assert.deepEqual(streamTopics('/stream?topic=a&topic=b&after=E:2'), ['a', 'b']);
});

test('leader mode: two tabs, one stream; every frame reaches both; a late tab starts from the shared state', async () => {
  const w = world();
  const a = w.tab(['a']);
  await until(() => a.link.leader);
  const b = w.tab(['a']);
  await until(() => live().length === 1 && a.ch.status === 'connecting');
  const s = live()[0];
  assert.equal(s.url, 'http://h/app/stream?topic=a');
  s.open();
  s.frame('state', { topic: 'a', version: 3, state: { n: 3 } }, 'E:10');
  await until(() => b.ch.getVersion('a') === 3 && a.ch.getVersion('a') === 3);
  assert.equal(a.ch.status, 'open');
  assert.equal(b.ch.status, 'open');
  s.frame(...patch('a', 4, 4, 11));
  s.frame(...patch('a', 4, 4, 11)); // a duplicate: dropped by the hub
  s.frame(...patch('a', 5, 5, 12));
  await until(() => b.ch.getVersion('a') === 5);
  assert.deepEqual(b.ch.getState('a'), { n: 5 });
  assert.deepEqual(
    b.seen.map((x) => x.a),
    [3, 4, 5],
    'contiguous, nothing doubled',
  );
  // a late tab: the hub's state at once, no new stream, no GET
  const c = w.tab(['a']);
  await until(() => c.ch.getVersion('a') === 5);
  assert.deepEqual(c.ch.getState('a'), { n: 5 });
  assert.equal(c.ch.status, 'open');
  assert.equal(live().length, 1);
  assert.equal(w.fetch.calls.length, 0);
  for (const t of w.tabs) t.link.close();
});

test('leader mode: the union of the topics changes (join, leave): the stream is reopened after its cursor', async () => {
  const w = world();
  const a = w.tab(['a']);
  await until(() => live().length === 1);
  live()[0].open();
  live()[0].frame('state', { topic: 'a', version: 2, state: { n: 2 } }, 'E:7');
  await until(() => a.ch.getVersion('a') === 2);
  const b = w.tab(['b']);
  const c = w.tab(['a', 'b']); // a known topic and a new one: both come
  // b is new: fetched (GET /state/b), then one stream for both from the earliest cursor
  await until(() => live().length === 1 && live()[0].url.includes('topic=b'));
  assert.equal(live()[0].url, 'http://h/app/stream?topic=a&topic=b&after=E:5');
  assert.deepEqual(w.fetch.calls.map((c) => c.url), ['http://h/app/state/b']);
  await until(() => b.ch.getVersion('b') === 1);
  const s = live()[0];
  s.open();
  s.frame(...patch('a', 3, 3, 8));
  s.frame(...patch('b', 2, 20, 9));
  await until(() => a.ch.getVersion('a') === 3 && b.ch.getVersion('b') === 2);
  assert.equal(b.ch.getState('a'), undefined, 'b does not follow a');
  assert.deepEqual(c.ch.getState(), { a: { n: 3 }, b: { topic: 'b', n: 20 } });
  assert.equal(w.fetch.calls.length, 1, 'b fetched once, by the hub');
  c.link.close();
  assert.deepEqual(b.ch.getState('b'), { topic: 'b', n: 20 });
  // b leaves: back to a alone, from the cursor
  b.link.close();
  await until(() => live().length === 1 && !live()[0].url.includes('topic=b'));
  assert.equal(live()[0].url, 'http://h/app/stream?topic=a&after=E:9');
  a.link.close();
  assert.equal(live().length, 0, 'the last tab gone: no stream');
});

test('leader mode: the leader tab closes; the next one takes over from the cursor, losing and doubling nothing', async () => {
  const w = world();
  const a = w.tab(['a']);
  await until(() => a.link.leader);
  const b = w.tab(['a']);
  const c = w.tab(['a']);
  await until(() => live().length === 1);
  const s1 = live()[0];
  s1.open();
  s1.frame('state', { topic: 'a', version: 1, state: { n: 1 } }, 'E:1');
  for (let v = 2; v <= 5; v++) s1.frame(...patch('a', v, v, v));
  await until(() => b.ch.getVersion('a') === 5 && c.ch.getVersion('a') === 5);
  a.link.close(); // the leader's tab goes away: its stream with it
  assert.ok(s1.closed);
  await until(() => (b.link.leader || c.link.leader) && live().length === 1);
  const s2 = live()[0];
  assert.equal(s2.url, 'http://h/app/stream?topic=a&after=E:5', 'resumed from the tabs cursor');
  s2.open();
  // the server repeats a frame the old stream had delivered, then goes on
  s2.frame(...patch('a', 5, 5, 5));
  for (let v = 6; v <= 8; v++) s2.frame(...patch('a', v, v, v));
  await until(() => b.ch.getVersion('a') === 8 && c.ch.getVersion('a') === 8);
  for (const t of [b, c]) {
    assert.deepEqual(
      t.seen.map((x) => x.a),
      [1, 2, 3, 4, 5, 6, 7, 8],
      'every version once, in order',
    );
    assert.equal(t.ch.status, 'open');
  }
  assert.equal(w.fetch.calls.length, 0, 'no resync was needed');
  b.link.close();
  c.link.close();
});

test('a gap in the shared stream: the hub resyncs (GET /state) and passes the new state on; the tabs stay open', async () => {
  const w = world((topic) => ({ topic, version: 3, cursor: 'E:3', state: { n: 3 } }));
  const a = w.tab(['a']);
  await until(() => a.link.leader);
  const b = w.tab(['a']);
  await until(() => live().length === 1);
  const s = live()[0];
  s.open();
  s.frame('state', { topic: 'a', version: 1, state: { n: 1 } }, 'E:1');
  await until(() => b.ch.getVersion('a') === 1);
  s.frame(...patch('a', 3, 3, 3)); // version 2 is missing
  await until(() => b.ch.getVersion('a') === 3 && a.ch.getVersion('a') === 3);
  assert.equal(w.fetch.calls.length, 1, 'one GET, by the hub, not one per tab');
  assert.deepEqual(b.ch.getState('a'), { n: 3 });
  await until(() => live().length === 1 && live()[0] !== s);
  assert.match(live()[0].url, /after=E:3$/);
  live()[0].open();
  live()[0].frame(...patch('a', 4, 4, 4));
  await until(() => b.ch.getVersion('a') === 4 && a.ch.getVersion('a') === 4);
  a.link.close();
  b.link.close();
});

test('worker mode: tabs share the worker stream; a tab that dies is removed by its lock', async () => {
  const locks = fakeLocks();
  const fetch = fakeFetch(() => json(404, { error: { code: 'no_topic', message: 'x' } }));
  const scope = { EventSource: ES, fetch, navigator: { locks } };
  serveSharedWorker(scope);
  class FakeSharedWorker {
    constructor() {
      const { port1, port2 } = new MessageChannel();
      this.port = port1;
      scope.onconnect({ ports: [port2] });
    }
  }
  // a tab's lock, released when it "dies"
  const tabs = [];
  const mk = () => {
    let die;
    const tabLocks = {
      request: (name, cb) =>
        locks.request(name, () => {
          cb();
          return new Promise((r) => (die = r));
        }),
    };
    const link = createSharedLink('http://h', { mode: 'worker', SharedWorker: FakeSharedWorker, locks: tabLocks });
    const ch = createStateChannel({ baseUrl: 'http://h', topic: 't', share: link, fetch });
    const me = { link, ch, die: () => die() };
    tabs.push(me);
    return me;
  };
  const a = mk();
  const b = mk();
  await until(() => live().length === 1);
  const s = live()[0];
  assert.equal(s.url, 'http://h/stream?topic=t');
  s.open();
  s.frame('state', { topic: 't', version: 1, state: { n: 1 } }, 'E:1');
  s.frame(...patch('t', 2, 2, 2));
  await until(() => a.ch.getVersion() === 2 && b.ch.getVersion() === 2);
  a.die(); // the tab crashed: no leave message, only its lock
  await tick(30);
  s.frame(...patch('t', 3, 3, 3));
  await until(() => b.ch.getVersion() === 3);
  assert.equal(a.ch.getVersion(), 2);
  assert.equal(live().length, 1, 'the stream stays for the other tab');
  b.link.close();
  await until(() => live().length === 0);
  for (const t of tabs) t.link.close();
});

test('worker mode: a worker that answers nothing (no pong) → the link falls back to a leader after workerTimeout', async () => {
  const BroadcastChannel = fakeBroadcast();
  const locks = fakeLocks();
  const fetch = fakeFetch(() => json(200, { topic: 't', version: 1, cursor: 'E:1', state: { n: 1 } }));
  class SilentWorker {
    constructor() {
      this.port = { start() {}, close() {}, postMessage() {}, onmessage: null };
    }
  }
  const mk = () => createSharedLink('http://h', { mode: 'worker', SharedWorker: SilentWorker, BroadcastChannel, locks, EventSource: ES, fetch, workerTimeout: 40, debounce: 5 });
  const l1 = mk();
  const l2 = mk();
  const a = createStateChannel({ baseUrl: 'http://h', topic: 't', share: l1, fetch });
  const b = createStateChannel({ baseUrl: 'http://h', topic: 't', share: l2, fetch });
  await tick(10);
  assert.equal(l1.mode, 'worker', 'still waiting for the worker');
  assert.equal(live().length, 0);
  await until(() => l1.mode === 'leader' && l2.mode === 'leader');
  await until(() => live().length === 1);
  live()[0].open();
  live()[0].frame('state', { topic: 't', version: 3, state: { n: 3 } }, 'E:3');
  live()[0].frame(...patch('t', 4, 4, 4));
  await until(() => a.getVersion() === 4 && b.getVersion() === 4);
  assert.equal(live().length, 1, 'one stream for both tabs');
  a.close();
  b.close();
  l1.close();
  l2.close();
});
