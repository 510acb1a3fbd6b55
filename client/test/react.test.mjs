import { test, beforeEach } from 'node:test';
import assert from 'node:assert/strict';
import { createElement as h } from 'react';
import { renderToString } from 'react-dom/server';
import { StateChannelProvider, useStateChannel, useStateChannelSelector } from '../src/react.js';
import { createStateChannel } from '../src/index.js';
import { FakeEventSource as ES } from './fakes.mjs';

beforeEach(() => ES.reset());

const initial = {
  topic: 'list:a',
  version: 3,
  cursor: 'E:9',
  state: { items: [{ id: 'i1', name: 'Milk', quantity: 2, bought: false }], next_id: 2 },
};

function List() {
  const { state, status, pending, pushMessage } = useStateChannel();
  const count = useStateChannelSelector((s) => s.items.length);
  assert.equal(typeof pushMessage, 'function');
  return h('ul', { 'data-status': status, 'data-pending': pending, 'data-count': count }, state.items.map((it) => h('li', { key: it.id }, `${it.name} × ${it.quantity}`)));
}

test('server rendering shows the initial snapshot and opens no stream', () => {
  const html = renderToString(h(StateChannelProvider, { baseUrl: 'http://h', topic: 'list:a', initial, options: { EventSource: ES } }, h(List)));
  assert.match(html, /Milk × 2/);
  assert.match(html, /data-status="connecting"/);
  assert.match(html, /data-count="1"/);
  assert.equal(ES.instances.length, 0);
});

test('a given channel is used as is; the hook throws without a provider', () => {
  const ch = createStateChannel({ topic: 'list:a', initial, EventSource: ES, autoConnect: false });
  const html = renderToString(h(StateChannelProvider, { channel: ch }, h(List)));
  assert.match(html, /Milk × 2/);
  assert.throws(() => renderToString(h(List)), /StateChannelProvider/);
});

test('useStateChannel: the optimistic state, the pending events and the helpers; the provider takes mutators', async () => {
  const never = () => new Promise(() => {});
  const mutators = { add: (s, p) => ({ ...s, items: [...s.items, { id: `i${s.next_id}`, name: p.name, quantity: 1, bought: false }], next_id: s.next_id + 1 }) };
  const ch = createStateChannel({ topic: 'list:a', initial, EventSource: ES, fetch: never, mutators, autoConnect: false });
  const p = ch.push('add', { name: 'Tea' });
  let seen = null;
  function Pending() {
    const r = useStateChannel();
    seen = r;
    return h('p', null, r.pendingEvents.map((e) => `${e.event}:${e.status}`).join(','));
  }
  const html = renderToString(h(StateChannelProvider, { channel: ch }, h(List), h(Pending)));
  assert.match(html, /Milk × 2.*Tea × 1/s, 'the prediction is rendered');
  // server rendering (and hydration) see no pending events: the HTML
  // matches what a fresh page renders first
  assert.match(html, /<p><\/p>/);
  assert.equal(seen.pending, 0);
  assert.deepEqual(ch.getPendingEvents().map((e) => `${e.event}:${e.status}`), ['add:sending']);
  assert.equal(seen.eventStatus(p.id), 'sending');
  assert.equal(seen.isConfirmed(p.id), false);
  assert.equal(typeof seen.clearFailed, 'function');
  // through the provider's own channel
  function Adder() {
    const { pushMessage } = useStateChannel();
    pushMessage('add', { name: 'Jam' });
    return null;
  }
  const html2 = renderToString(h(StateChannelProvider, { baseUrl: 'http://h', topic: 'list:a', initial, mutators, options: { EventSource: ES, fetch: never } }, h(Adder), h(List)));
  assert.match(html2, /Jam × 1/);
});
