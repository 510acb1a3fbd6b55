// A fake EventSource and fetch for the client's unit tests.

export class FakeEventSource {
  static instances = [];

  static reset() {
    FakeEventSource.instances = [];
  }

  static get last() {
    return FakeEventSource.instances[FakeEventSource.instances.length - 1];
  }

  constructor(url, init) {
    this.url = url;
    this.init = init;
    this.readyState = 0;
    this.listeners = {};
    this.closed = false;
    FakeEventSource.instances.push(this);
  }

  addEventListener(type, fn) {
    (this.listeners[type] ||= []).push(fn);
  }

  close() {
    this.readyState = 2;
    this.closed = true;
  }

  dispatch(type, ev) {
    for (const fn of this.listeners[type] || []) fn(ev);
  }

  open() {
    this.readyState = 1;
    this.dispatch('open', { type: 'open' });
  }

  /** An SSE frame: event type, JSON data, id. */
  frame(type, data, id = '') {
    this.dispatch(type, { type, data: JSON.stringify(data), lastEventId: id });
  }

  /** A connection error: closed = the browser gave up (readyState 2). */
  fail(closed = false) {
    this.readyState = closed ? 2 : 0;
    this.dispatch('error', { type: 'error' });
  }

  get query() {
    return new URL(this.url, 'http://x').searchParams;
  }
}

/** fetch that calls handler(url, init, callIndex) → Response | throws. */
export function fakeFetch(handler) {
  const calls = [];
  const f = async (url, init = {}) => {
    const call = { url: String(url), init, body: init.body ? JSON.parse(init.body) : undefined };
    calls.push(call);
    return handler(call, calls.length - 1);
  };
  f.calls = calls;
  return f;
}

export function json(status, body, headers = {}) {
  return new Response(JSON.stringify(body), {
    status,
    headers: { 'Content-Type': 'application/json', ...headers },
  });
}

export const tick = (ms = 0) => new Promise((r) => setTimeout(r, ms));

/** Waits until cond() holds (polling), or fails after ms. */
export async function until(cond, ms = 2000) {
  const t0 = Date.now();
  while (!cond()) {
    if (Date.now() - t0 > ms) throw new Error('until: timed out');
    await tick(2);
  }
}

/** A fetch whose answers the test gives, one by one: answer(i, Response). */
export function heldFetch() {
  const waiting = [];
  const f = fakeFetch((call) => new Promise((resolve, reject) => waiting.push({ call, resolve, reject })));
  f.waiting = waiting;
  f.answer = async (i, res) => {
    await until(() => waiting[i]);
    waiting[i].resolve(res);
    await tick();
  };
  return f;
}
