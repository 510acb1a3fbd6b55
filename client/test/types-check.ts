// Compiled (not run) by `npm run typecheck`: the declarations describe the API.
import { createStateChannel, createSharedLink, getInitialState, applyPatch, StateChannelError, classifyAnswer, type Snapshot, type Mutators, type PendingEvent } from 'statechannel-client';
import { StateChannelProvider, useStateChannel, useStateChannelSelector, usePendingEvents } from 'statechannel-client/react';
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
  const mutators: Mutators = {
    add: (st: List, p: { name: string }) => ({ ...st, items: [...st.items, { id: `i${st.next_id}`, name: p.name, quantity: 1, bought: false }], next_id: st.next_id + 1 }),
    remove: (st: List, p: { id: string }) => [{ op: 'remove', path: `/items/${st.items.findIndex((i) => i.id === p.id)}` }],
  };
  const opt = createStateChannel<List>({
    topic: 'list:o',
    initial,
    mutators,
    holdMs: 500,
    retry: { maxRetryAfter: 10000 },
    share: false,
    lazyState: false,
    onUpdate: (t, u) => console.log(t, u.type === 'patch' ? u.patch.length : u.version),
  });
  const link = createSharedLink('/app', { mode: 'leader' });
  if (link) createStateChannel({ topic: 'x', share: link }).close();
  const pushed = opt.push('add', { name: 'Tea' });
  const pid: string = pushed.id;
  const evs: readonly PendingEvent[] = opt.getPendingEvents();
  const failed = evs.filter((e) => e.status === 'failed').map((e) => e.error?.message);
  const confirmedState: List | undefined = opt.getConfirmedState<List>();
  const shownOptimistic: boolean = opt.isOptimistic() || opt.isOptimistic('list:a');
  const known: boolean = opt.isConfirmed(pid) || opt.getEventStatus(pid) === 'sending';
  opt.clearFailed(pid);
  const verdict = classifyAnswer({ ok: false, status: 503, headers: new Headers() }, '');
  console.log(failed, confirmedState, shownOptimistic, known, verdict, opt.pendingEvents.length);
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
  const { state, pushMessage, status, pending, pendingEvents, isConfirmed, eventStatus, clearFailed } = useStateChannel<List>();
  const count = useStateChannelSelector((st: List) => st.items.length);
  const p = pushMessage('clear_bought', {});
  const all: readonly PendingEvent[] = usePendingEvents();
  if (isConfirmed(p.id) || eventStatus(p.id) === 'failed') clearFailed();
  void p;
  console.log(pendingEvents.length, all.length);
  return createElement('p', null, `${status} ${pending} ${count} ${state.items.length}`);
}

export const el = createElement(StateChannelProvider, { topic: 'list:x', initial: null, mutators: {} }, createElement(Items));
export { demo };
