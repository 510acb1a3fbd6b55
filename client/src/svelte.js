// Svelte binding of statechannel-client: readable stores (Svelte's store
// contract, no import of svelte needed).
//
//   const list = stateChannelStore({ baseUrl: '', topic: 'list:groceries' });
//   {#each $list?.items ?? [] as item (item.id)}<li>{item.name}</li>{/each}
//   <span>{$status}</span>   (const status = list.status)
//   list.push('add', { name: 'Milk' });
//
// The stream opens with the first subscriber and closes after the last one
// leaves (and resumes from its cursor when one subscribes again).
// Subscribers are called only when the value changed: thanks to the
// channel's structural sharing an unchanged state keeps its identity.

import { createStateChannel } from './index.js';

export { createStateChannel };

// A readable store of get() over the channel, calling `start` with the
// first subscriber and `stop` after the last.
function readable(channel, get, start, stop) {
  const runs = new Set();
  let value;
  let off = null;
  const changed = () => {
    const v = get();
    if (Object.is(v, value)) return;
    value = v;
    for (const run of [...runs]) run(v);
  };
  return {
    subscribe(run, invalidate) {
      if (typeof run !== 'function') throw new TypeError('subscribe: a function is needed');
      const entry = (v) => {
        if (invalidate) invalidate();
        run(v);
      };
      if (runs.size === 0) {
        value = get();
        off = channel.subscribe(changed);
        start();
      }
      runs.add(entry);
      run(value);
      return () => {
        if (!runs.delete(entry) || runs.size > 0) return;
        off();
        off = null;
        stop();
      };
    },
  };
}

/**
 * A readable store of the channel's state (one topic: its state; several:
 * keyed by topic), with .status, .pending and .version (readable stores
 * too), .push(event, payload, options) and .channel.  options: those of
 * createStateChannel, or { channel } (a channel made elsewhere: never
 * opened nor closed here).
 */
export function stateChannelStore(options = {}) {
  const own = !options.channel;
  const channel = options.channel || createStateChannel({ ...options, autoConnect: false });
  let users = 0;
  const start = () => {
    if (own && users++ === 0 && options.autoConnect !== false) channel.connect();
  };
  const stop = () => {
    if (own && --users === 0) channel.close();
  };
  const store = readable(channel, () => channel.getState(), start, stop);
  store.status = readable(channel, () => channel.status, start, stop);
  store.pending = readable(channel, () => channel.pending, start, stop);
  store.version = readable(channel, () => channel.getVersion(), start, stop);
  store.push = (event, payload, opts) => channel.push(event, payload, opts);
  store.channel = channel;
  return store;
}

export default stateChannelStore;
