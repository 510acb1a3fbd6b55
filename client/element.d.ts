// TypeScript declarations of statechannel-client/element.
import type { ChannelOptionsBase, StateChannel, Status, EventAnswer, PushOptions } from './index.js';

export { createStateChannel } from './index.js';

export interface StateChannelChangeDetail<S = any> {
  state: S;
  version: number | undefined;
}
export interface StateChannelStatusDetail {
  status: Status;
  pending: number;
}

/** <state-channel topic="…" topics="a b" base-url="…">: dispatches "change"
 *  and "status" CustomEvents. */
export interface StateChannelElement<S = any> extends HTMLElement {
  /** The other options of createStateChannel; set before connecting. */
  options: Omit<ChannelOptionsBase, 'autoConnect'>;
  readonly channel: StateChannel<S> | null;
  readonly state: S | undefined;
  readonly version: number | undefined;
  readonly status: Status;
  readonly pending: number;
  push(event: string, payload?: unknown, options?: PushOptions): Promise<EventAnswer>;
  addEventListener(type: 'change', listener: (ev: CustomEvent<StateChannelChangeDetail<S>>) => void, options?: boolean | AddEventListenerOptions): void;
  addEventListener(type: 'status', listener: (ev: CustomEvent<StateChannelStatusDetail>) => void, options?: boolean | AddEventListenerOptions): void;
  addEventListener(type: string, listener: EventListenerOrEventListenerObject, options?: boolean | AddEventListenerOptions): void;
}

/** Defines the element once (default name "state-channel", default window:
 *  the page's) and returns its class.  Importing the module on a page does
 *  it for "state-channel". */
export declare function defineStateChannelElement(
  name?: string,
  win?: { customElements: CustomElementRegistry; HTMLElement: typeof HTMLElement; CustomEvent: typeof CustomEvent },
): CustomElementConstructor;

/** Keeps target[prop] equal to selector(state); returns the function that stops it. */
export declare function bind<S, T extends object, K extends keyof T>(
  source: StateChannelElement<S> | StateChannel<S>,
  target: T,
  prop: K,
  selector: (state: NonNullable<S>) => T[K],
  isEqual?: (a: T[K], b: T[K]) => boolean,
): () => void;

declare global {
  interface HTMLElementTagNameMap {
    'state-channel': StateChannelElement;
  }
}
