// TypeScript declarations of statechannel-client/svelte (Svelte's store contract).
import type { ChannelOptionsBase, StateChannel, Status, EventAnswer, PushOptions } from './index.js';

export { createStateChannel } from './index.js';

/** Svelte's readable store contract. */
export interface Readable<T> {
  subscribe(run: (value: T) => void, invalidate?: () => void): () => void;
}

export interface StateChannelReadable<S> extends Readable<S> {
  status: Readable<Status>;
  pending: Readable<StateChannel<S>['pending']>;
  version: Readable<number | undefined>;
  push(event: string, payload?: unknown, options?: PushOptions): Promise<EventAnswer>;
  channel: StateChannel<S>;
}

/** The stream opens with the first subscriber and closes after the last. */
export declare function stateChannelStore<S = any>(
  options:
    | (ChannelOptionsBase & { topic: string; topics?: undefined; channel?: undefined })
    | (ChannelOptionsBase & { topics: readonly string[]; topic?: undefined; channel?: undefined })
    | { channel: StateChannel<S>; autoConnect?: undefined },
): StateChannelReadable<S>;
export default stateChannelStore;
