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
