// onPatch / onState: what the store adapters (solid.js) build on.
import { test, beforeEach } from 'node:test';
import assert from 'node:assert/strict';
import { createStateChannel } from '../src/index.js';
import { FakeEventSource as ES, fakeFetch, json, until } from './fakes.mjs';

beforeEach(() => ES.reset());

test('onPatch sees each applied patch (stream and push answer) before subscribers; onState each full state', async () => {
  const fetch = fakeFetch((call) =>
    call.url.includes('/events/')
      ? json(200, { topic: 't', version: 3, cursor: 'E:3', patch: [{ op: 'add', path: '/b', value: 2 }] })
      : json(200, { topic: 't', version: 9, cursor: 'E:9', state: { fresh: true } }),
  );
  const ch = createStateChannel({ topic: 't', EventSource: ES, fetch });
  const seen = [];
  ch.onPatch((c) => seen.push(['patch', c.topic, c.version, c.patch.length, ch.getState()]));
  ch.onState((c) => seen.push(['state', c.topic, c.version, c.state]));
  ch.subscribe(() => seen.push(['notify']));
  ES.last.frame('state', { topic: 't', version: 1, state: {} }, 'E:1');
  ES.last.frame('patch', { topic: 't', version: 2, patch: [{ op: 'add', path: '/a', value: 1 }] }, 'E:2');
  await ch.push('add', {});
  ES.last.frame('patch', { topic: 't', version: 3, patch: [{ op: 'add', path: '/b', value: 2 }] }, 'E:3');
  ES.last.frame('patch', { topic: 't', version: 5, patch: [] }, 'E:5'); // a gap: resync
  await until(() => seen.some((s) => s[0] === 'state' && s[2] === 9));
  const kinds = seen.filter((s) => s[0] !== 'notify');
  assert.deepEqual(kinds, [
    ['state', 't', 1, {}],
    ['patch', 't', 2, 1, { a: 1 }],
    ['patch', 't', 3, 1, { a: 1, b: 2 }],
    ['state', 't', 9, { fresh: true }],
  ]);
  assert.deepEqual(seen[0], ['state', 't', 1, {}], 'before the subscribers');
  assert.deepEqual(seen[1], ['notify']);
  ch.close();
});

test('an unsubscribed or throwing observer: the others still run, the error goes to onError', () => {
  const errors = [];
  const ch = createStateChannel({ topic: 't', EventSource: ES, fetch: fakeFetch(() => json(500, {})), onError: (e) => errors.push(e.message) });
  let n = 0;
  const off = ch.onPatch(() => n++);
  ch.onPatch(() => {
    throw new Error('boom');
  });
  ES.last.frame('state', { topic: 't', version: 1, state: {} }, 'E:1');
  ES.last.frame('patch', { topic: 't', version: 2, patch: [{ op: 'add', path: '/a', value: 1 }] }, 'E:2');
  off();
  ES.last.frame('patch', { topic: 't', version: 3, patch: [{ op: 'add', path: '/b', value: 1 }] }, 'E:3');
  assert.equal(n, 1);
  assert.deepEqual(errors, ['boom', 'boom']);
  ch.close();
});
