// TypeScript declarations of statechannel-client/solid.
import type { Accessor } from 'solid-js';
import type { Store } from 'solid-js/store';
import type { ChannelOptionsBase, StateChannel, Status, EventAnswer, PushOptions, PatchOperation, PendingEvent } from './index.js';

export { createStateChannel } from './index.js';

export interface StateChannelStoreActions<S> {
  /** POST /events/{topic}: the server's answer, or a StateChannelError. */
  push(event: string, payload?: unknown, options?: PushOptions): Promise<EventAnswer>;
  status: Accessor<Status>;
  /** The channel's pending events (getPendingEvents()). */
  pending: Accessor<readonly PendingEvent[]>;
  /** A topic's version (default: the first topic). */
  version(topic?: string): number | undefined;
  /** The channel under the store. */
  channel: StateChannel<unknown>;
  /** Stops following the channel (and closes it when the store made it);
   *  done by itself when the owner (component) is disposed. */
  close(): void;
}

export type StateChannelStoreOptions =
  | (ChannelOptionsBase & { topic: string; topics?: undefined; channel?: undefined })
  | (ChannelOptionsBase & { topics: readonly string[]; topic?: undefined; channel?: undefined })
  | { channel: StateChannel<unknown>; autoConnect?: undefined };

/** A Solid store of the channel's state ({} until the first snapshot; several
 *  topics: keyed by topic); each patch becomes setStore path calls. */
export declare function createStateChannelStore<S extends object = any>(
  options: StateChannelStoreOptions,
): [Store<S>, StateChannelStoreActions<S>];
export default createStateChannelStore;

/** Applies an RFC 6902 patch to a Solid store, one store write per op at
 *  `base` (default the root), in one batch; throws a PatchError when an op fails. */
export declare function applyPatchToStore<S extends object>(
  store: Store<S>,
  patch: readonly PatchOperation[],
  base?: readonly (string | number)[],
): void;
/** The selection of a keyed list, O(1) a change (a signal per row; Solid's
 *  createSelector walks every subscribed key on each change): returns
 *  rowSelected(key), called where a row is made, that row's accessor. */
export declare function createKeyedSelection<K>(selected: Accessor<K>): (key: K) => Accessor<boolean>;
/** A deep copy of a JSON value. */
export declare function cloneJSON<T>(value: T): T;
