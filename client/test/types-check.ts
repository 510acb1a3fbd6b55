// Compiled (not run) by `npm run typecheck`: the declarations describe the API.
import { createStateChannel, getInitialState, applyPatch, StateChannelError, type Snapshot } from 'statechannel-client';
import { StateChannelProvider, useStateChannel, useStateChannelSelector } from 'statechannel-client/react';
import { createElement } from 'react';

type List = { items: { id: string; name: string; quantity: number; bought: boolean }[]; next_id: number };

async function demo(): Promise<void> {
  const initial: Snapshot<List> = await getInitialState<List>('http://127.0.0.1:8080', 'list:groceries', { headers: { cookie: 'a=b' } });
  const ch = createStateChannel<List>({ baseUrl: '', topic: 'list:groceries', initial });
  const s: List | undefined = ch.getState();
  const off: () => void = ch.subscribe(() => {});
  off();
  const answer = await ch.push('add', { name: 'Milk', quantity: 2 });
  const v: number = answer.version;
  const many = createStateChannel<{ 'list:a': List; 'list:b': List }>({ topics: ['list:a', 'list:b'] });
  const a: List | undefined = many.getState()['list:a'];
  await many.push('toggle', { id: 'i1' }, { topic: 'list:a', id: 'x' });
  const doc = applyPatch({ a: 1 }, [{ op: 'replace', path: '/a', value: 2 }]);
  const n: number = doc.a;
  try {
    await ch.push('add', {});
  } catch (e) {
    if (e instanceof StateChannelError) console.log(e.code, e.status, s, v, a, n);
  }
  ch.close();
}

function Items() {
  const { state, pushMessage, status, pending } = useStateChannel<List>();
  const count = useStateChannelSelector((st: List) => st.items.length);
  void pushMessage('clear_bought', {});
  return createElement('p', null, `${status} ${pending} ${count} ${state.items.length}`);
}

export const el = createElement(StateChannelProvider, { topic: 'list:x', initial: null }, createElement(Items));
export { demo };
