// <state-channel> in happy-dom (a DOM in node): attributes, events,
// properties, bind(), an inline snapshot, closing when removed.
import { test, before, after, beforeEach } from 'node:test';
import assert from 'node:assert/strict';
import { Window } from 'happy-dom';
import { defineStateChannelElement, bind } from '../src/element.js';
import { createStateChannel } from '../src/index.js';
import { FakeEventSource as ES, fakeFetch, json, tick } from './fakes.mjs';

let win;
let doc;
before(() => {
  win = new Window({ url: 'http://h/' });
  doc = win.document;
  defineStateChannelElement('state-channel', win);
});
after(() => win.happyDOM.close());
beforeEach(() => ES.reset());

const fetch = fakeFetch((call) => json(200, { topic: 'list:a', version: 2, cursor: 'E:2', patch: [{ op: 'add', path: '/items/-', value: 'Tea' }] }));

function element(attrs, options = {}) {
  const el = doc.createElement('state-channel');
  el.options = { EventSource: ES, fetch, ...options };
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, v);
  return el;
}

test('connected: opens the stream of its topic; state, status and change events; push', async () => {
  const el = element({ topic: 'list:a', 'base-url': 'http://h/app' });
  const changes = [];
  const statuses = [];
  el.addEventListener('change', (e) => changes.push([e.detail.version, e.detail.state]));
  el.addEventListener('status', (e) => statuses.push(`${e.detail.status}/${e.detail.pending}`));
  assert.equal(el.status, 'closed');
  doc.body.appendChild(el);
  assert.equal(ES.instances.length, 1);
  assert.equal(ES.last.url, 'http://h/app/stream/list:a');
  assert.equal(el.dataset.status, 'connecting');
  ES.last.open();
  assert.equal(el.status, 'open');
  assert.equal(el.getAttribute('data-status'), 'open');
  ES.last.frame('state', { topic: 'list:a', version: 1, state: { items: ['Milk'] } }, 'E:1');
  assert.deepEqual(el.state, { items: ['Milk'] });
  assert.equal(el.version, 1);
  const answer = await el.push('add', { name: 'Tea' });
  assert.equal(answer.version, 2);
  assert.equal(fetch.calls[0].url, 'http://h/app/events/list:a');
  assert.deepEqual(el.state, { items: ['Milk', 'Tea'] });
  assert.deepEqual(changes, [
    [1, { items: ['Milk'] }],
    [2, { items: ['Milk', 'Tea'] }],
  ]);
  assert.deepEqual(statuses, ['connecting/0', 'open/0', 'open/1', 'open/0'], 'status and pending (the push)');
  el.remove();
  await tick();
  assert.equal(ES.last.closed, true, 'removed: the stream is closed');
  assert.equal(el.status, 'closed');
});

test('moved in the document: the stream stays open; a new topic attribute: a new stream', async () => {
  const el = element({ topic: 'list:a' });
  doc.body.appendChild(el);
  const first = ES.last;
  const div = doc.createElement('div');
  doc.body.appendChild(div);
  div.appendChild(el);
  await tick();
  assert.equal(first.closed, false);
  assert.equal(ES.instances.length, 1);
  el.setAttribute('topic', 'list:b');
  assert.equal(first.closed, true);
  assert.equal(ES.last.url, '/stream/list:b');
  el.setAttribute('topics', 'list:b list:c');
  assert.equal(ES.last.url, '/stream?topic=list:b&topic=list:c');
  div.remove();
  await tick();
  assert.equal(ES.last.closed, true);
});

test('an inline snapshot renders at once and the stream resumes after its cursor', () => {
  const el = element({ topic: 'list:a' });
  el.innerHTML = '<script type="application/json">{"topic":"list:a","version":4,"cursor":"E:40","state":{"items":["Bread"]}}</script>';
  doc.body.appendChild(el);
  assert.deepEqual(el.state, { items: ['Bread'] });
  assert.equal(ES.last.url, '/stream/list:a?after=E:40');
  el.remove();
});

test('bind keeps a property equal to a selector, set only when the selection changes', async () => {
  const el = element({ topic: 'list:a' });
  doc.body.appendChild(el);
  const out = doc.createElement('span');
  let sets = 0;
  const target = {
    set textContent(v) {
      sets++;
      out.textContent = v;
    },
  };
  const unbind = bind(el, target, 'textContent', (s) => `${s.items.length} items`);
  assert.equal(sets, 0, 'no state yet: nothing set');
  ES.last.frame('state', { topic: 'list:a', version: 1, state: { items: ['Milk'], title: 'a' } }, 'E:1');
  assert.equal(out.textContent, '1 items');
  ES.last.frame('patch', { topic: 'list:a', version: 2, patch: [{ op: 'replace', path: '/title', value: 'b' }] }, 'E:2');
  assert.equal(sets, 1, 'the selection did not change');
  ES.last.frame('patch', { topic: 'list:a', version: 3, patch: [{ op: 'add', path: '/items/-', value: 'Eggs' }] }, 'E:3');
  assert.equal(out.textContent, '2 items');
  unbind();
  ES.last.frame('patch', { topic: 'list:a', version: 4, patch: [{ op: 'add', path: '/items/-', value: 'Tea' }] }, 'E:4');
  assert.equal(out.textContent, '2 items');
  // bound to a channel directly
  const ch = createStateChannel({ topic: 'x', initial: { topic: 'x', version: 1, cursor: 'E:1', state: { n: 5 } }, EventSource: ES, autoConnect: false });
  const o = {};
  bind(ch, o, 'value', (s) => s.n * 2);
  assert.equal(o.value, 10);
  el.remove();
});

test('no topic: nothing opens; push rejects', async () => {
  const el = element({});
  doc.body.appendChild(el);
  assert.equal(ES.instances.length, 0);
  await assert.rejects(() => el.push('x'), /not connected/);
  assert.equal(defineStateChannelElement('state-channel', win), win.customElements.get('state-channel'), 'defined once');
  el.remove();
});

test('a topic set after connecting opens the stream; an upgraded element opens once', async () => {
  const el = element({});
  doc.body.appendChild(el);
  el.setAttribute('topic', 'list:late');
  assert.equal(ES.instances.length, 1);
  assert.equal(ES.last.url, '/stream/list:late');
  el.remove();
  await tick();
  // an element in the document before the name is defined
  const up = doc.createElement('late-channel');
  up.setAttribute('topic', 'list:up');
  up.setAttribute('base-url', 'http://h');
  up.options = { EventSource: ES }; // before the upgrade: kept
  doc.body.appendChild(up);
  const Cls = defineStateChannelElement('late-channel', win);
  assert.ok(up instanceof Cls);
  assert.equal(ES.instances.length, 2, 'one stream for the upgraded element');
  assert.equal(ES.last.url, 'http://h/stream/list:up');
  up.remove();
});
