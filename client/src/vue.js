// Vue binding of statechannel-client (Vue 3): a composable whose state is a
// shallowRef.
//
//   const { state, status, pending, push } = useStateChannel({ baseUrl: '', topic: 'list:groceries' });
//   <li v-for="item in state?.items" :key="item.id">{{ item.name }}</li>
//
// The channel applies each patch with structural sharing, so state.value is
// a new object only when something changed, and inside it every part that
// did not change keeps its identity: a shallowRef (no deep proxies) is all
// Vue needs, and computed()s of unchanged parts do not re-run their users.

import { shallowRef, getCurrentInstance, getCurrentScope, onMounted, onScopeDispose } from 'vue';
import { createStateChannel } from './index.js';

export { createStateChannel };

/**
 * { state, status, pending, version, push, channel, close }: shallowRefs of
 * the channel's state (one topic: its state; several: keyed by topic), its
 * status, pending and version.  options: those of createStateChannel, or {
 * channel } (a channel made elsewhere, left open).  In a component the
 * stream opens on mount (server rendering opens nothing) and closes on
 * unmount; in an effect scope it closes with the scope.
 */
export function useStateChannel(options = {}) {
  const own = !options.channel;
  const channel = options.channel || createStateChannel({ ...options, autoConnect: false });
  const state = shallowRef(channel.getState());
  const status = shallowRef(channel.status);
  const pending = shallowRef(channel.pending);
  const version = shallowRef(channel.getVersion());
  // shallowRef triggers only on a new value (Object.is): an unchanged
  // state, status or pending costs nothing.
  const off = channel.subscribe(() => {
    state.value = channel.getState();
    status.value = channel.status;
    pending.value = channel.pending;
    version.value = channel.getVersion();
  });
  let closed = false;
  function close() {
    if (closed) return;
    closed = true;
    off();
    if (own) channel.close();
  }
  if (getCurrentScope()) onScopeDispose(close);
  if (own && options.autoConnect !== false) {
    if (getCurrentInstance()) onMounted(() => closed || channel.connect());
    else channel.connect();
  }
  return {
    state,
    status,
    pending,
    version,
    push: (event, payload, opts) => channel.push(event, payload, opts),
    channel,
    close,
  };
}

export default useStateChannel;
