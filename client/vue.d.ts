// TypeScript declarations of statechannel-client/vue.
import type { ShallowRef } from 'vue';
import type { ChannelOptionsBase, StateChannel, Status, EventAnswer, PushOptions } from './index.js';

export { createStateChannel } from './index.js';

export interface UseStateChannel<S> {
  /** One topic: its state (undefined until the first snapshot); several: keyed by topic. */
  state: ShallowRef<S>;
  status: ShallowRef<Status>;
  /** What the channel's `pending` is (events sent and not yet answered). */
  pending: ShallowRef<StateChannel<S>['pending']>;
  version: ShallowRef<number | undefined>;
  push(event: string, payload?: unknown, options?: PushOptions): Promise<EventAnswer>;
  channel: StateChannel<S>;
  /** Stops following (and closes a channel it made); done on unmount / scope dispose. */
  close(): void;
}

export declare function useStateChannel<S = any>(
  options:
    | (ChannelOptionsBase & { topic: string; topics?: undefined; channel?: undefined })
    | (ChannelOptionsBase & { topics: readonly string[]; topic?: undefined; channel?: undefined })
    | { channel: StateChannel<S>; autoConnect?: undefined },
): UseStateChannel<S>;
export default useStateChannel;
