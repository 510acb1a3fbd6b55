// <state-channel>: a custom element over statechannel-client, for pages
// with no framework.
//
//   <script type="module">
//     import { defineStateChannelElement, bind } from '/client/src/element.js';
//     defineStateChannelElement();
//     const list = document.querySelector('state-channel');
//     bind(list, document.querySelector('#count'), 'textContent', (s) => s.items.length);
//     list.addEventListener('change', (e) => render(e.detail.state));
//     list.push('add', { name: 'Milk' });
//   </script>
//   <state-channel topic="list:groceries" base-url=""></state-channel>
//
// Attributes: topic (or topics="a b", several on one stream), base-url.
// Properties: state, version, status, pending, channel, options (the other
// options of createStateChannel, set before the element is connected), and
// push(event, payload, options).  Events: "change" (detail {state,
// version}) after every change of the state, "status" (detail {status,
// pending}) after a change of either.  The element reflects its status as
// data-status (for CSS: state-channel[data-status="reconnecting"]).  A
// snapshot for the first render can sit inside it, as what GET /state
// answered: <script type="application/json">{"topic":..., "state":...}</script>.

import { createStateChannel } from './index.js';

export { createStateChannel };

function makeClass(win) {
  const Custom = win.CustomEvent;
  return class StateChannelElement extends win.HTMLElement {
    static get observedAttributes() {
      return ['topic', 'topics', 'base-url'];
    }

    constructor() {
      super();
      // options set on the element before it was upgraded are kept
      if (!this.options) this.options = {};
      this._channel = null;
      this._off = null;
      this._live = false; // between connectedCallback and the close after disconnecting
      this._last = { state: undefined, status: undefined, pending: undefined };
    }

    get channel() {
      return this._channel;
    }

    get state() {
      return this._channel ? this._channel.getState() : undefined;
    }

    get version() {
      return this._channel ? this._channel.getVersion() : undefined;
    }

    get status() {
      return this._channel ? this._channel.status : 'closed';
    }

    get pending() {
      return this._channel ? this._channel.pending : 0;
    }

    push(event, payload, options) {
      if (!this._channel) return Promise.reject(new Error('<state-channel>: not connected'));
      return this._channel.push(event, payload, options);
    }

    connectedCallback() {
      this._live = true;
      if (!this._channel) this._open();
    }

    disconnectedCallback() {
      // A move in the document disconnects and connects at once: keep the
      // stream unless the element is still out at the next microtask.
      queueMicrotask(() => {
        if (this.isConnected) return;
        this._live = false;
        this._close();
      });
    }

    attributeChangedCallback(name, from, to) {
      // Before connectedCallback (the attributes of an upgraded or parsed
      // element) there is nothing to reopen.
      if (from === to || !this._live) return;
      this._close();
      this._open();
    }

    _initial() {
      if (this.options.initial !== undefined) return this.options.initial;
      const script = this.querySelector(':scope > script[type="application/json"]');
      if (!script) return undefined;
      try {
        return JSON.parse(script.textContent);
      } catch {
        return undefined;
      }
    }

    _open() {
      const topics = (this.getAttribute('topics') || '').split(/\s+/).filter(Boolean);
      const topic = this.getAttribute('topic');
      if (!topic && topics.length === 0) return;
      const ch = createStateChannel({
        ...this.options,
        baseUrl: this.getAttribute('base-url') ?? this.options.baseUrl ?? '',
        ...(topics.length ? { topics } : { topic }),
        initial: this._initial(),
        autoConnect: false,
      });
      this._channel = ch;
      this._last = { state: undefined, status: undefined, pending: undefined };
      this._off = ch.subscribe(() => this._changed());
      ch.connect();
      this._changed();
    }

    _close() {
      if (!this._channel) return;
      this._off();
      this._channel.close();
      this._channel = null;
      this.dataset.status = 'closed';
    }

    _changed() {
      const ch = this._channel;
      const last = this._last;
      const state = ch.getState();
      if (ch.status !== last.status || ch.pending !== last.pending) {
        last.status = ch.status;
        last.pending = ch.pending;
        this.dataset.status = ch.status;
        this.dispatchEvent(new Custom('status', { detail: { status: ch.status, pending: ch.pending } }));
      }
      if (state !== last.state) {
        last.state = state;
        this.dispatchEvent(new Custom('change', { detail: { state, version: ch.getVersion() } }));
      }
    }
  };
}

let defined = null;

/**
 * Defines the element (once) under `name` (default "state-channel") in
 * win's customElements (default the page's) and returns its class.
 */
export function defineStateChannelElement(name = 'state-channel', win = globalThis) {
  const existing = win.customElements.get(name);
  if (existing) return existing;
  if (!defined || defined.win !== win) defined = { win, cls: makeClass(win) };
  const cls = name === 'state-channel' ? defined.cls : class extends defined.cls {};
  win.customElements.define(name, cls);
  return cls;
}

/**
 * Keeps target[prop] equal to selector(state) of a <state-channel> (or of
 * a channel): set at once when the state is known, then whenever the
 * selected value changes (isEqual, Object.is by default).  Returns the
 * function that stops it.
 */
export function bind(source, target, prop, selector, isEqual = Object.is) {
  const channel = typeof source.subscribe === 'function' ? source : null;
  let has = false;
  let last;
  const update = () => {
    const state = channel ? channel.getState() : source.state;
    if (state === undefined) return;
    const v = selector(state);
    if (has && isEqual(last, v)) return;
    has = true;
    last = v;
    target[prop] = v;
  };
  update();
  if (channel) return channel.subscribe(update);
  source.addEventListener('change', update);
  return () => source.removeEventListener('change', update);
}

// On a page (a customElements registry exists), <state-channel> is defined
// on import.
if (globalThis.customElements && globalThis.HTMLElement) defineStateChannelElement();
