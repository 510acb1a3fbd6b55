// React bindings of statechannel-client (React 18 or later).
//
//   <StateChannelProvider baseUrl="" topic="list:groceries" initial={initial}>
//     <App />
//   </StateChannelProvider>
//
//   const { state, pushMessage, status, pending } = useStateChannel();
//   const items = useStateChannelSelector((s) => s.items);
//
// The store opens its EventSource in an effect, so server-side rendering
// (Next.js) renders the `initial` snapshot and opens nothing; the browser
// goes live after hydration, resuming right after the snapshot's cursor.

import {
  createContext,
  createElement,
  useCallback,
  useContext,
  useEffect,
  useRef,
  useSyncExternalStore,
} from 'react';
import { createStateChannel, getInitialState } from './index.js';

export { createStateChannel, getInitialState };

const Context = createContext(null);

/**
 * Provides a channel to its children: either `channel` (a store made with
 * createStateChannel, left open on unmount) or one it makes from
 * baseUrl / topic | topics / initial / options (closed on unmount; made
 * anew when baseUrl or the topics change).
 */
export function StateChannelProvider(props) {
  const { channel, baseUrl = '', topic, topics, initial, options, children } = props;
  const key = channel ? null : `${baseUrl}\u0000${topics ? topics.join('\u0000') : topic}`;
  const ref = useRef(null);
  if (!channel && (ref.current === null || ref.current.key !== key)) {
    ref.current = {
      key,
      store: createStateChannel({
        ...(options || {}),
        baseUrl,
        ...(topics ? { topics } : { topic }),
        initial,
        autoConnect: false,
      }),
    };
  }
  const store = channel || ref.current.store;
  useEffect(() => {
    if (channel) return undefined;
    store.connect();
    return () => store.close();
  }, [store, channel]);
  return createElement(Context.Provider, { value: store }, children);
}

/** The channel of the nearest StateChannelProvider. */
export function useStateChannelStore() {
  const store = useContext(Context);
  if (!store) throw new Error('useStateChannel: no <StateChannelProvider> above this component');
  return store;
}

const serverStatus = () => 'connecting';
const serverPending = () => 0;

/**
 * { state, pushMessage, status, pending }: the state (one topic: its
 * state; several: an object keyed by topic), pushMessage(event, payload,
 * { topic }) → Promise of the server's answer, the connection status and
 * the number of events sent and not yet answered.
 */
export function useStateChannel() {
  const store = useStateChannelStore();
  const state = useSyncExternalStore(store.subscribe, store.getState, store.getState);
  const status = useSyncExternalStore(store.subscribe, store.getStatus, serverStatus);
  const pending = useSyncExternalStore(store.subscribe, store.getPending, serverPending);
  const pushMessage = useCallback((event, payload, opts) => store.push(event, payload, opts), [store]);
  return { state, pushMessage, status, pending };
}

/**
 * selector(state) → a part of it; the component re-renders only when that
 * part changes (by isEqual, Object.is by default).  Thanks to structural
 * sharing an unchanged part keeps its identity across patches.
 */
export function useStateChannelSelector(selector, isEqual = Object.is) {
  const store = useStateChannelStore();
  const cache = useRef(null);
  const getSelection = () => {
    const s = store.getState();
    const c = cache.current;
    if (c !== null && c.state === s && c.selector === selector) return c.value;
    const v = selector(s);
    if (c !== null && isEqual(c.value, v)) {
      cache.current = { state: s, selector, value: c.value };
      return c.value;
    }
    cache.current = { state: s, selector, value: v };
    return v;
  };
  return useSyncExternalStore(store.subscribe, getSelection, getSelection);
}
