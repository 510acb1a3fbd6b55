// TypeScript declarations of statechannel-client/react.
import type { ReactNode, ReactElement } from 'react';
import type { ChannelOptionsBase, InitialSnapshots, StateChannel, Status, PushOptions, PushPromise, PendingEvent, PendingStatus, Mutators } from './index.js';

export { createStateChannel, getInitialState } from './index.js';
export type * from './index.js';

export type StateChannelProviderProps = {
  children?: ReactNode;
} & (
  | {
      /** A channel made with createStateChannel (not closed on unmount). */
      channel: StateChannel<unknown>;
      baseUrl?: undefined;
      topic?: undefined;
      topics?: undefined;
      initial?: undefined;
      options?: undefined;
      mutators?: undefined;
    }
  | {
      channel?: undefined;
      /** "" (same origin) by default. */
      baseUrl?: string;
      topic?: string;
      topics?: readonly string[];
      /** getInitialState()'s answer, e.g. from getServerSideProps. */
      initial?: InitialSnapshots | null;
      /** The other options of createStateChannel. */
      options?: Omit<ChannelOptionsBase, 'baseUrl' | 'initial' | 'autoConnect'>;
      /** Optimistic updates (read when the channel is made, like initial). */
      mutators?: Mutators;
    }
);

/** Makes (or takes) a channel and gives it to useStateChannel below.  The
 *  stream opens in an effect: server-side rendering opens nothing. */
export declare function StateChannelProvider(props: StateChannelProviderProps): ReactElement;

export interface UseStateChannel<S> {
  /** One topic: its state; several: an object keyed by topic.  With
   *  mutators: the server's state with the pending predictions on top. */
  state: S;
  pushMessage(event: string, payload?: unknown, options?: PushOptions): PushPromise;
  status: Status;
  /** Events sent and not yet acknowledged (for a spinner). */
  pending: number;
  /** Events not confirmed yet, and failed ones (with their error) until clearFailed. */
  pendingEvents: readonly PendingEvent[];
  isConfirmed(id: string): boolean;
  eventStatus(id: string): PendingStatus | 'confirmed' | undefined;
  clearFailed(id?: string): void;
}

export declare function useStateChannel<S = any>(): UseStateChannel<S>;
/** Re-renders only when selector(state) changes (isEqual, default Object.is). */
export declare function useStateChannelSelector<S = any, T = unknown>(
  selector: (state: S) => T,
  isEqual?: (a: T, b: T) => boolean,
): T;
/** The pending events of the nearest provider's channel. */
export declare function usePendingEvents(): readonly PendingEvent[];
/** The channel of the nearest provider. */
export declare function useStateChannelStore<S = any>(): StateChannel<S>;
