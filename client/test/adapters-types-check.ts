// Compiled (not run) by adapters-types.test.mjs: the adapters' declarations
// describe their API.
import { createStateChannel, type StateChannel } from 'statechannel-client';
import { createStateChannelStore, applyPatchToStore, createKeyedSelection } from 'statechannel-client/solid';
import { defineStateChannelElement, bind, type StateChannelElement } from 'statechannel-client/element';
import { useStateChannel } from 'statechannel-client/vue';
import { stateChannelStore } from 'statechannel-client/svelte';
import { createStore } from 'solid-js/store';
import type { ShallowRef } from 'vue';

type List = { items: { id: string; name: string; quantity: number; bought: boolean }[] };

export async function solid(): Promise<void> {
  const [state, { push, status, pending, version, channel, close }] = createStateChannelStore<List>({ baseUrl: '', topic: 'list:x' });
  const n: number = state.items.length;
  const s: string = status();
  const p: number = pending().length;
  const firstStatus: string | undefined = pending()[0]?.status;
  const v: number | undefined = version();
  const ch: StateChannel<unknown> = channel;
  console.log(firstStatus);
  await push('add', { name: 'Milk' });
  const [, more] = createStateChannelStore({ channel: createStateChannel({ topics: ['a', 'b'] }) });
  more.close();
  const [doc] = createStore({ a: 1 });
  applyPatchToStore(doc, [{ op: 'replace', path: '/a', value: 2 }]);
  const rowSelected = createKeyedSelection(() => state.items[0]?.id);
  const selected: boolean = rowSelected('i1')();
  console.log(selected);
  close();
  console.log(n, s, p, v, ch);
}

export function element(): void {
  defineStateChannelElement();
  const el: StateChannelElement<List> = document.createElement('state-channel') as StateChannelElement<List>;
  el.options = { fetch: globalThis.fetch };
  el.addEventListener('change', (e) => console.log(e.detail.state.items.length, e.detail.version));
  el.addEventListener('status', (e) => console.log(e.detail.status, e.detail.pending));
  const span = document.createElement('span');
  const off: () => void = bind(el, span, 'textContent', (s) => `${s.items.length}`);
  off();
  void el.push('toggle', { id: 'i1' });
}

export function vue(): void {
  const { state, status, push } = useStateChannel<List | undefined>({ topic: 'list:x' });
  const st: ShallowRef<List | undefined> = state;
  console.log(st.value?.items.length, status.value);
  void push('clear_bought', {});
}

export function svelte(): void {
  const list = stateChannelStore<List | undefined>({ topic: 'list:x' });
  const off = list.subscribe((s) => console.log(s?.items.length));
  list.status.subscribe((s) => console.log(s));
  off();
  void list.push('add', { name: 'Tea' });
}
