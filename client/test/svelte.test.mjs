// The Svelte stores: the store contract as svelte/store's get() and
// derived() use it, and a component compiled by svelte/compiler reading
// $list / $status, rendered by svelte/server.
import { test, beforeEach } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { get, derived } from 'svelte/store';
import { compile } from 'svelte/compiler';
import { render } from 'svelte/server';
import { stateChannelStore } from '../src/svelte.js';
import { createStateChannel } from '../src/index.js';
import { FakeEventSource as ES, fakeFetch, json } from './fakes.mjs';

beforeEach(() => ES.reset());

const initial = { topic: 'list:a', version: 1, cursor: 'E:1', state: { items: [{ id: 'i1', name: 'Milk' }], title: 'A' } };
const fetch = fakeFetch(() => json(200, { topic: 'list:a', version: 2, cursor: 'E:2', patch: [{ op: 'add', path: '/items/-', value: { id: 'i2', name: 'Tea' } }] }));

test('the stream opens with the first subscriber, closes after the last, resumes after its cursor', async () => {
  const list = stateChannelStore({ topic: 'list:a', initial, EventSource: ES, fetch });
  assert.equal(ES.instances.length, 0, 'nothing open before a subscriber');
  assert.deepEqual(get(list), initial.state, 'get(): subscribe, read, unsubscribe');
  assert.equal(ES.instances.length, 1);
  assert.equal(ES.last.closed, true, 'closed after get()');
  const seen = [];
  const statuses = [];
  const off = list.subscribe((s) => seen.push(s.items.map((i) => i.name).join(',')));
  const offStatus = list.status.subscribe((s) => statuses.push(s));
  assert.equal(ES.instances.length, 2, 'one stream for the state and status subscribers');
  ES.last.open();
  await list.push('add', { name: 'Tea' });
  ES.last.frame('patch', { topic: 'list:a', version: 2, patch: [{ op: 'add', path: '/items/-', value: 'dup' }] }, 'E:2');
  ES.last.frame('patch', { topic: 'list:a', version: 3, patch: [{ op: 'replace', path: '/title', value: 'B' }] }, 'E:3');
  assert.deepEqual(seen, ['Milk', 'Milk,Tea', 'Milk,Tea'], 'called once per change of the state');
  assert.deepEqual(statuses, ['connecting', 'open']);
  assert.equal(get(list.version), 3);
  off();
  assert.equal(ES.last.closed, false, 'the status subscriber is still there');
  offStatus();
  assert.equal(ES.last.closed, true);
  list.subscribe(() => {})();
  assert.match(ES.last.url, /after=E:3$/, 'resumed from its cursor');
});

test('derived stores re-run only when the state changes', () => {
  const ch = createStateChannel({ topic: 'list:a', initial, EventSource: ES, fetch, autoConnect: false });
  const list = stateChannelStore({ channel: ch });
  let runs = 0;
  const count = derived(list, (s) => {
    runs++;
    return s.items.length;
  });
  const values = [];
  const off = count.subscribe((n) => values.push(n));
  assert.equal(ES.instances.length, 0, 'a given channel is not opened');
  ch.connect();
  ES.last.open(); // a status change: the state did not change
  ES.last.frame('patch', { topic: 'list:a', version: 2, patch: [{ op: 'add', path: '/items/-', value: { id: 'x', name: 'Eggs' } }] }, 'E:2');
  assert.deepEqual(values, [1, 2]);
  assert.equal(runs, 2);
  off();
  assert.equal(ES.last.closed, false, 'nor closed');
  ch.close();
});

test('the example component (examples/shopping/svelte) compiles and renders $list and $status', async () => {
  const source = fs.readFileSync(new URL('../../examples/shopping/svelte/ShoppingList.svelte', import.meta.url), 'utf8');
  const client = compile(source, { generate: 'client', name: 'ShoppingList' });
  assert.deepEqual(client.warnings.map((w) => w.code), [], 'no compiler warnings');
  const { js } = compile(source, { generate: 'server', name: 'ShoppingList' });
  // next to the test so that "svelte/internal/server" resolves
  const dir = fs.mkdtempSync(path.join(fileURLToPath(new URL('.', import.meta.url)), '.svelte-'));
  try {
    const file = path.join(dir, 'ShoppingList.js');
    fs.writeFileSync(file, js.code);
    const { default: ShoppingList } = await import(pathToFileURL(file));
    const list = stateChannelStore({ topic: 'list:a', initial, EventSource: ES, fetch, autoConnect: false });
    const { body } = render(ShoppingList, { props: { list } });
    assert.match(body, /data-status="connecting"/);
    assert.match(body, /version 1/);
    assert.match(body, /<span class="name"[^>]*>Milk<\/span>/);
    assert.equal(ES.instances.length, 0, 'autoConnect: false opens nothing (server rendering)');
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
