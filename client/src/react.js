// React bindings of statechannel-client (React 18 or later).
//
//   <StateChannelProvider baseUrl="" topic="list:groceries" initial={initial} mutators={mutators}>
//     <App />
//   </StateChannelProvider>
//
//   const { state, pushMessage, status, pending, pendingEvents } = useStateChannel();
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
  const { channel, baseUrl = '', topic, topics, initial, options, mutators, children } = props;
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
        ...(mutators ? { mutators } : {}),
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
const noEvents = Object.freeze([]);
const serverEvents = () => noEvents;

/**
 * { state, pushMessage, status, pending, pendingEvents, isConfirmed,
 * eventStatus, clearFailed }: the visible state (the server's with the
 * predictions of the pending events on top; one topic: its state; several:
 * an object keyed by topic), pushMessage(event, payload, { topic, id }) →
 * Promise of the server's answer (its `.id` is the event's id), the
 * connection status, the number of events sent and not yet answered, the
 * list of pending events ({ id, topic, event, payload, status, error }),
 * and helpers over it.
 */
export function useStateChannel() {
  const store = useStateChannelStore();
  const state = useSyncExternalStore(store.subscribe, store.getState, store.getState);
  const status = useSyncExternalStore(store.subscribe, store.getStatus, serverStatus);
  const pending = useSyncExternalStore(store.subscribe, store.getPending, serverPending);
  const pendingEvents = useSyncExternalStore(store.subscribe, store.getPendingEvents, serverEvents);
  const pushMessage = useCallback((event, payload, opts) => store.push(event, payload, opts), [store]);
  const clearFailed = useCallback((id) => store.clearFailed(id), [store]);
  return {
    state,
    pushMessage,
    status,
    pending,
    pendingEvents,
    isConfirmed: store.isConfirmed,
    eventStatus: store.getEventStatus,
    clearFailed,
  };
}

/** The pending events (re-renders only when that list changes). */
export function usePendingEvents() {
  const store = useStateChannelStore();
  return useSyncExternalStore(store.subscribe, store.getPendingEvents, serverEvents);
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
