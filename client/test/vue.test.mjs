// The Vue composable: shallowRefs that change only with the state, the
// stream opened on mount (not in server rendering), closed on unmount or
// with its effect scope.  The DOM is happy-dom's, set up before Vue loads.
import { test, before, after, beforeEach } from 'node:test';
import assert from 'node:assert/strict';
import { Window } from 'happy-dom';
import { FakeEventSource as ES, fakeFetch, json, tick } from './fakes.mjs';

let win;
let vue;
let useStateChannel;
let renderToString;
before(async () => {
  win = new Window({ url: 'http://h/' });
  for (const k of ['window', 'document', 'navigator', 'Node', 'Element', 'SVGElement', 'HTMLElement', 'MutationObserver']) globalThis[k] = win[k];
  vue = await import('vue');
  ({ renderToString } = await import('vue/server-renderer'));
  ({ useStateChannel } = await import('../src/vue.js'));
});
after(() => win.happyDOM.close());
beforeEach(() => ES.reset());

const initial = { topic: 'list:a', version: 1, cursor: 'E:1', state: { items: [{ id: 'i1', name: 'Milk' }], title: 'A' } };
const fetch = fakeFetch(() => json(200, { topic: 'list:a', version: 2, cursor: 'E:2', patch: [{ op: 'add', path: '/items/-', value: { id: 'i2', name: 'Tea' } }] }));

test('in an effect scope: state is a shallowRef; effects on an unchanged part do not re-run', async () => {
  const { effectScope, watchEffect, computed, isShallow, nextTick } = vue;
  const scope = effectScope();
  let itemsRuns = 0;
  let titleRuns = 0;
  const r = scope.run(() => {
    const ch = useStateChannel({ topic: 'list:a', initial, EventSource: ES, fetch });
    const items = computed(() => ch.state.value.items);
    const title = computed(() => ch.state.value.title);
    watchEffect(() => {
      void items.value;
      itemsRuns++;
    });
    watchEffect(() => {
      void title.value;
      titleRuns++;
    });
    return ch;
  });
  assert.ok(isShallow(r.state), 'a shallowRef');
  assert.equal(ES.instances.length, 1, 'outside a component the stream opens at once');
  assert.equal(ES.last.url, '/stream/list:a?after=E:1');
  ES.last.open();
  assert.equal(r.status.value, 'open');
  const answer = await r.push('add', { name: 'Tea' });
  assert.equal(answer.version, 2);
  await nextTick();
  assert.deepEqual(r.state.value.items.map((i) => i.name), ['Milk', 'Tea']);
  assert.equal(r.version.value, 2);
  assert.equal(r.pending.value, 0);
  assert.equal(itemsRuns, 2);
  assert.equal(titleRuns, 1, 'the title kept its identity: its effect did not re-run');
  const before = r.state.value;
  ES.last.frame('patch', { topic: 'list:a', version: 2, patch: [{ op: 'add', path: '/items/-', value: 'dup' }] }, 'E:2');
  assert.equal(r.state.value, before, 'a frame already applied changes nothing');
  scope.stop();
  assert.equal(ES.last.closed, true, 'closed with its scope');
});

test('in a component: server rendering opens nothing; mounted opens, unmounted closes', async () => {
  const { createSSRApp, createApp, defineComponent, h, nextTick } = vue;
  const List = defineComponent({
    setup() {
      const { state, status } = useStateChannel({ topic: 'list:a', initial, EventSource: ES, fetch });
      return () => h('ul', { 'data-status': status.value }, state.value.items.map((i) => h('li', { key: i.id }, i.name)));
    },
  });
  const html = await renderToString(createSSRApp(List));
  assert.match(html, /<li>Milk<\/li>/);
  assert.match(html, /data-status="connecting"/);
  assert.equal(ES.instances.length, 0, 'no stream on the server');

  const root = document.createElement('div');
  document.body.appendChild(root);
  const app = createApp(List);
  app.mount(root);
  assert.equal(ES.instances.length, 1);
  ES.last.open();
  ES.last.frame('patch', { topic: 'list:a', version: 2, patch: [{ op: 'replace', path: '/items/0/name', value: 'Oat milk' }] }, 'E:2');
  await nextTick();
  assert.equal(root.querySelector('ul').getAttribute('data-status'), 'open');
  assert.equal(root.querySelector('li').textContent, 'Oat milk');
  app.unmount();
  assert.equal(ES.last.closed, true);
});

test('a given channel is used as is and left open', async () => {
  const { effectScope } = vue;
  const { createStateChannel } = await import('../src/index.js');
  const ch = createStateChannel({ topic: 'list:a', initial, EventSource: ES, fetch });
  const scope = effectScope();
  const r = scope.run(() => useStateChannel({ channel: ch }));
  assert.equal(r.channel, ch);
  assert.equal(r.state.value, ch.getState());
  scope.stop();
  await tick();
  assert.equal(ES.last.closed, false);
  ch.close();
});
