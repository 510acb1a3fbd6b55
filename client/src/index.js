// statechannel-client: the browser side of StateChannel.
//
//   const ch = createStateChannel({ baseUrl: '', topic: 'list:groceries' });
//   ch.subscribe(() => render(ch.getState()));
//   await ch.push('add', { name: 'Milk', quantity: 2 });
//
// One EventSource carries every topic of a channel (GET /stream/{topic} for
// one, /stream?topic=a&topic=b for several); `state` frames replace a
// topic's state, `patch` frames are applied with structural sharing
// (./patch.js), or with lazyState kept until the state is read.  A patch that is not the next version triggers a resync
// (GET /state/{topic}, then the stream again from that snapshot) instead of a
// wrong state.  The HTTP/SSE contract is docs/protocol.md of the repository.

import { applyPatch, PatchError } from './patch.js';
import { StateChannelError, readAnswer, postWithRetry, sleep, backoff } from './http.js';
import { createPending } from './pending.js';
import { sharedLink } from './shared.js';

export { applyPatch, parsePointer, PatchError, jsonEqual } from './patch.js';
export { StateChannelError, classifyAnswer } from './http.js';
export { isPatch } from './pending.js';
export { createSharedLink } from './shared.js';

const STATUSES = ['connecting', 'open', 'reconnecting', 'closed'];

// lazyState: the most patch operations a topic keeps unapplied.
const MAX_DEFERRED_OPS = 4096;
export { STATUSES };

// Topic names are ASCII letters, digits and ":_-.@": safe in a URL as they
// are.  Anything else is percent-encoded (and refused by the server).
function enc(s) {
  return encodeURIComponent(s).replace(/%3A/gi, ':').replace(/%40/g, '@');
}

function trimBase(baseUrl) {
  return (baseUrl || '').replace(/\/+$/, '');
}

/** "EPOCH:SEQ" → { epoch, seq } (null when it is not a cursor). */
export function parseCursor(c) {
  if (typeof c !== 'string') return null;
  const i = c.lastIndexOf(':');
  if (i < 0) return null;
  const seq = Number(c.slice(i + 1));
  if (!Number.isFinite(seq)) return null;
  return { epoch: c.slice(0, i), seq };
}

// The earlier of two cursors; null when they are from different epochs
// (nothing can be resumed: the stream must start with full state).
function minCursor(a, b) {
  if (a == null) return b;
  if (b == null) return a;
  const pa = parseCursor(a);
  const pb = parseCursor(b);
  if (!pa || !pb || pa.epoch !== pb.epoch) return null;
  return pa.seq <= pb.seq ? a : b;
}

function randomId() {
  const c = globalThis.crypto;
  if (c && typeof c.randomUUID === 'function') return c.randomUUID();
  // crypto.randomUUID exists only in secure contexts (https, localhost).
  const b = new Uint8Array(16);
  if (c && typeof c.getRandomValues === 'function') c.getRandomValues(b);
  else for (let i = 0; i < 16; i++) b[i] = Math.floor(Math.random() * 256);
  b[6] = (b[6] & 0x0f) | 0x40;
  b[8] = (b[8] & 0x3f) | 0x80;
  const h = Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

function cleanHeaders(h) {
  const out = {};
  if (!h) return out;
  const entries = typeof h.entries === 'function' && !(h.constructor === Object) ? h.entries() : Object.entries(h);
  for (const [k, v] of entries) if (v !== undefined && v !== null) out[k] = Array.isArray(v) ? v.join(', ') : String(v);
  return out;
}

/**
 * GET {baseUrl}/state/{topic}: { topic, version, cursor, state }, for
 * server-side rendering (Next.js getServerSideProps).  `headers` is sent as
 * is: forward the request's cookie / authorization so the app's authorize()
 * sees the user.  With an array of topics, an array of answers.
 */
export async function getInitialState(baseUrl, topic, options = {}) {
  if (Array.isArray(topic)) return Promise.all(topic.map((t) => getInitialState(baseUrl, t, options)));
  const f = options.fetch || globalThis.fetch;
  const res = await f(`${trimBase(baseUrl)}/state/${enc(topic)}`, {
    headers: { Accept: 'application/json', ...cleanHeaders(options.headers) },
    cache: 'no-store',
  });
  return readAnswer(res);
}

// `initial` as a Map topic → answer: one answer, an array of answers, or an
// object keyed by topic.
function initialMap(initial, topics) {
  const m = new Map();
  if (!initial) return m;
  const add = (a) => {
    if (a && typeof a.topic === 'string' && topics.includes(a.topic)) m.set(a.topic, a);
  };
  if (Array.isArray(initial)) initial.forEach(add);
  else if (typeof initial.topic === 'string' && 'state' in initial) add(initial);
  else for (const t of topics) if (initial[t]) add({ topic: t, ...initial[t] });
  return m;
}

/**
 * A store of one or several topics over one EventSource.
 * See index.d.ts for the options and the methods.
 */
export function createStateChannel(options) {
  const opts = options || {};
  const baseUrl = trimBase(opts.baseUrl);
  const topics = opts.topics ? [...opts.topics] : opts.topic != null ? [opts.topic] : [];
  if (topics.length === 0) throw new TypeError('createStateChannel: give a topic or topics');
  const single = !opts.topics;
  const ES = opts.EventSource || globalThis.EventSource;
  const doFetch = opts.fetch || ((...a) => globalThis.fetch(...a));
  const headers = cleanHeaders(opts.headers);
  const retry = { attempts: 8, baseDelay: 100, maxDelay: 3000, maxRetryAfter: 30000, ...(opts.retry || {}) };
  const reconnectDelay = { baseDelay: 250, maxDelay: 5000, ...(opts.reconnect || {}) };
  const applyAnswers = opts.applyAnswers !== false;
  const lazyState = opts.lazyState === true;
  const onError = opts.onError || (() => {});
  const onUpdate = typeof opts.onUpdate === 'function' ? opts.onUpdate : null;
  // One stream per browser (./shared.js): by default, unless an
  // EventSource is given or share is false; share may also be a link.
  const share = opts.share === false || (opts.EventSource && !(opts.share && typeof opts.share === 'object')) ? null : opts.share;

  const entries = new Map(); // topic → confirmed { state, version } (absent: not known yet); lazyState: see deferred()
  // The events pushed and not yet confirmed, and the visible (optimistic)
  // state of each topic: ./pending.js.
  const pending = createPending({
    mutators: opts.mutators,
    confirmed: entries,
    onError: (e) => onError(e),
    holdMs: opts.holdMs ?? 1000,
    onChange: () => {
      keyed = null;
      notify();
    },
    schedule: (fn, ms) => setTimeout(fn, ms),
    cancel: (t) => clearTimeout(t),
  });
  let lastId = null; // the cursor to resume from
  let es = null;
  let status = 'connecting';
  let closed = false;
  let started = false;
  let reconnectTimer = null;
  let reconnectAttempt = 0;
  let resyncing = null; // Set of topics being fetched again, or null
  let generation = 0; // bumped by close(): late answers of an old run are dropped
  const listeners = new Set();
  // onPatch / onState: every applied patch and every full state, for the
  // adapters that update a mutable store path by path (solid.js).
  const patchListeners = new Set();
  const stateListeners = new Set();
  let keyed = null; // the cached getState() of a several-topic channel

  // lazyState: a patch is not applied when it comes; the topic's entry
  // holds the one before it and the patch, and its state is built when
  // something reads it (getState() and the optimistic layer, the shared
  // stream's snapshots): all the patches since the state last built in one
  // applyPatch, which copies each container on their paths once.  For
  // adapters that keep a state of their own and apply the patches to it
  // (statechannel-client/solid): the frames of a page that reads nothing
  // else copy nothing here.  After MAX_DEFERRED_OPS operations the state is
  // built anyway (after the frame's listeners), so the patches kept stay
  // bounded.
  function deferred(topic, prev, version, patch) {
    return {
      version,
      prev,
      patch,
      ops: (prev.prev ? prev.ops : 0) + patch.length,
      built: undefined,
      get state() {
        return this.prev ? build(topic, this) : this.built;
      },
    };
  }

  function build(topic, e) {
    const chain = [];
    let b = e;
    for (; b.prev; b = b.prev) chain.push(b);
    const ops = [];
    for (let i = chain.length - 1; i >= 0; i--) for (const op of chain[i].patch) ops.push(op);
    let state;
    try {
      state = applyPatch(b.state, ops);
    } catch (err) {
      // A patch that does not apply: the state of the patches before it
      // (applied one by one, to find it), and a resync brings the server's.
      onError(err);
      let good = { state: b.state, version: b.version };
      try {
        for (let i = chain.length - 1; i >= 0; i--) good = { state: applyPatch(good.state, chain[i].patch), version: chain[i].version };
      } catch {
        /* good: the state before that patch */
      }
      if (entries.get(topic) === e) {
        entries.set(topic, good);
        keyed = null;
        resync(topic);
      }
      return good.state;
    }
    e.built = state;
    e.prev = null;
    e.patch = null;
    return state;
  }

  // The next confirmed entry of topic after e: the patch applied, or kept
  // (lazyState).  Throws a PatchError when it does not apply.
  function patched(topic, e, version, patch) {
    if (!lazyState) return { state: applyPatch(e.state, patch), version };
    if (!Array.isArray(patch)) throw new PatchError('a patch must be an array');
    return deferred(topic, e, version, patch);
  }

  // lazyState: the state built once too many operations are kept.
  function compact(topic) {
    const e = entries.get(topic);
    if (e && e.prev && e.ops > MAX_DEFERRED_OPS) void e.state;
  }

  const init = initialMap(opts.initial, topics);
  for (const [t, a] of init) {
    entries.set(t, { state: a.state, version: a.version });
  }
  if (init.size > 0) {
    let c;
    let first = true;
    for (const a of init.values()) {
      c = first ? a.cursor ?? null : minCursor(c, a.cursor ?? null);
      first = false;
    }
    lastId = c ?? null;
  }

  function notify() {
    for (const l of [...listeners]) {
      try {
        l();
      } catch (e) {
        onError(e);
      }
    }
  }

  function emit(set, change) {
    for (const l of [...set]) {
      try {
        l(change);
      } catch (e) {
        onError(e);
      }
    }
  }

  function setStatus(s) {
    if (status === s) return;
    status = s;
    notify();
  }

  // The confirmed state of topic is now (state, version), from the stream
  // (patch: the patch that made it) or a resync; the pending events are
  // replayed on top.
  // (next: the topic's new entry, { state, version }.)
  function setTopic(topic, next, patch, cursor) {
    const e = entries.get(topic);
    if (e && !patch && e.version === next.version && e.state === next.state) return;
    confirm(topic, next, patch, cursor);
    pending.advanced(topic, e);
    applyBufferedAnswers(topic);
  }

  function confirm(topic, next, patch, cursor) {
    const { version } = next;
    entries.set(topic, next);
    keyed = null;
    // The confirmed changes, for adapters that apply patches themselves
    // (statechannel-client/solid): a patch, or a whole state.
    if (patch) emit(patchListeners, { topic, version, patch });
    else emit(stateListeners, { topic, version, state: next.state });
    if (onUpdate) {
      try {
        onUpdate(topic, patch ? { type: 'patch', version, patch, cursor } : { type: 'state', version, state: next.state, cursor });
      } catch (err) {
        onError(err);
      }
    }
  }

  // Answers of our own events that came before the version they follow:
  // applied in order once the confirmed state reaches it.
  function applyBufferedAnswers(topic) {
    if (!applyAnswers) return;
    for (;;) {
      const e = entries.get(topic);
      const a = e && pending.answerAfter(topic, e.version);
      if (!a) return;
      let next;
      try {
        next = patched(topic, e, a.version, a.patch);
      } catch (err) {
        onError(err); // the stream brings it (or resyncs)
        return;
      }
      confirm(topic, next, a.patch, a.cursor);
      pending.refresh(topic);
    }
  }

  const epochOf = (c) => parseCursor(c)?.epoch;

  function streamUrl(after) {
    let u = single ? `${baseUrl}/stream/${enc(topics[0])}` : `${baseUrl}/stream?${topics.map((t) => `topic=${enc(t)}`).join('&')}`;
    if (after) u += `${single ? '?' : '&'}after=${enc(after)}`;
    return u;
  }

  function frame(ev) {
    try {
      return JSON.parse(ev.data);
    } catch (e) {
      onError(e);
      return null;
    }
  }

  function onStateFrame(ev) {
    const d = frame(ev);
    if (!d || !topics.includes(d.topic)) return;
    const e = entries.get(d.topic);
    const sameDb = !ev.lastEventId || !lastId || epochOf(ev.lastEventId) === epochOf(lastId);
    if (ev.lastEventId) lastId = ev.lastEventId;
    // Not newer than what we hold (the answers to our pushes got there
    // first): going back would undo changes for a moment.
    if (sameDb && e && d.version <= e.version) return;
    // A state frame from another database: our answered events' versions
    // mean nothing there.
    if (!sameDb) pending.forget(d.topic);
    setTopic(d.topic, { state: d.state, version: d.version }, null, lastId);
    notify();
  }

  function onPatchFrame(ev) {
    const d = frame(ev);
    if (!d || !topics.includes(d.topic)) return;
    const e = entries.get(d.topic);
    if (e && d.version <= e.version) {
      // Already applied (from the answer to our own push, or a snapshot).
      if (ev.lastEventId) lastId = ev.lastEventId;
      return;
    }
    if (!e || d.version !== e.version + 1) {
      resync(d.topic);
      return;
    }
    let next;
    try {
      next = patched(d.topic, e, d.version, d.patch);
    } catch (err) {
      onError(err);
      resync(d.topic);
      return;
    }
    if (ev.lastEventId) lastId = ev.lastEventId;
    setTopic(d.topic, next, d.patch, lastId);
    notify();
    if (lazyState) compact(d.topic);
  }

  function dropStream() {
    if (es) {
      es.close();
      es = null;
    }
    if (reconnectTimer) {
      clearTimeout(reconnectTimer);
      reconnectTimer = null;
    }
  }

  function openStream() {
    dropStream();
    if (closed) return;
    const src = source(streamUrl(lastId));
    es = src;
    src.addEventListener('state', (ev) => es === src && onStateFrame(ev));
    src.addEventListener('patch', (ev) => es === src && onPatchFrame(ev));
    src.addEventListener('open', () => {
      if (es !== src) return;
      reconnectAttempt = 0;
      setStatus('open');
    });
    src.addEventListener('error', () => {
      if (es !== src || closed) return;
      // CLOSED (2): the browser gave up (an HTTP error, a wrong content
      // type): reconnect ourselves from the last cursor, with backoff.
      // CONNECTING (0): the browser reconnects itself with Last-Event-ID.
      if (src.readyState === 2) {
        src.close();
        es = null;
        scheduleReconnect();
      }
      setStatus('reconnecting');
    });
  }

  // The shared stream of this browser when it can share, else an EventSource of our own.
  function source(url) {
    const link = share === null ? null : typeof share === 'object' ? share : sharedLink(baseUrl, !!opts.withCredentials);
    if (link) return link.open(url, { snapshots });
    if (!ES) throw new TypeError('createStateChannel: no EventSource (pass one in options.EventSource)');
    return new ES(url, opts.withCredentials ? { withCredentials: true } : undefined);
  }

  // What this channel holds, for the hub of a shared stream to start from.
  function snapshots() {
    if (!lastId) return [];
    const out = [];
    for (const t of topics) {
      const e = entries.get(t);
      if (e) out.push({ topic: t, version: e.version, cursor: lastId, state: e.state });
    }
    return out;
  }

  function scheduleReconnect() {
    if (closed || reconnectTimer) return;
    const d = backoff(reconnectAttempt++, reconnectDelay.baseDelay, reconnectDelay.maxDelay);
    reconnectTimer = setTimeout(() => {
      reconnectTimer = null;
      openStream();
    }, d);
  }

  // Fetch the given topics' snapshots again, then stream from the earliest
  // cursor (patches a snapshot already holds are ignored by version).
  async function fetchThenStream(list) {
    const gen = generation;
    let attempt = 0;
    for (;;) {
      try {
        const answers = await Promise.all(list.map((t) => getInitialState(baseUrl, t, { headers, fetch: doFetch })));
        if (closed || gen !== generation) return;
        // Topics not fetched again resume from our last cursor; fetched
        // ones from their snapshot.
        let after = list.length === topics.length ? null : lastId;
        let reset = false;
        for (const a of answers) {
          if (lastId && a.cursor && epochOf(a.cursor) !== epochOf(lastId)) pending.forget(a.topic);
          setTopic(a.topic, { state: a.state, version: a.version }, null, a.cursor);
          const m = minCursor(after, a.cursor ?? null);
          if (m === null && after !== null) reset = true;
          else after = m;
        }
        // A snapshot from another epoch (the database was replaced): no
        // cursor of ours means anything; start over with full state frames.
        lastId = reset ? null : after;
        resyncing = null;
        notify();
        openStream();
        return;
      } catch (err) {
        if (closed || gen !== generation) return;
        onError(err);
        setStatus('reconnecting');
        await sleep(backoff(attempt++, reconnectDelay.baseDelay, reconnectDelay.maxDelay));
        if (closed || gen !== generation) return;
      }
    }
  }

  function resync(topic) {
    if (closed) return;
    if (resyncing) {
      resyncing.add(topic);
      return;
    }
    resyncing = new Set([topic]);
    dropStream();
    setStatus('reconnecting');
    // Topics reported while the first fetch runs join the next round.
    Promise.resolve().then(() => resyncing && fetchThenStream([...resyncing]));
  }

  function connect() {
    if (started && !closed) return;
    closed = false;
    started = true;
    generation++;
    status = 'connecting';
    const missing = topics.filter((t) => !entries.has(t));
    if (entries.size > 0 && missing.length > 0) {
      // Some topics have a snapshot, some not: fetch the others so the one
      // stream can start after a cursor for all.
      resyncing = new Set(missing);
      fetchThenStream(missing);
    } else openStream();
    notify();
  }

  /**
   * Sends one event; its mutator (if any) is shown at once.  Returns the
   * promise of the answer, with the event's id as `.id`.
   */
  function push(event, payload, pushOpts = {}) {
    const topic = pushOpts.topic ?? (single || topics.length === 1 ? topics[0] : undefined);
    if (topic === undefined) return Promise.reject(new TypeError('push: several topics: say which one ({ topic })'));
    const id = pushOpts.id ?? randomId();
    const rec = { id, topic, event, payload };
    if (pending.add(rec)) keyed = null;
    notify();
    const p = send(rec);
    p.id = id;
    return p;
  }

  async function send(rec) {
    const { id, topic, event, payload } = rec;
    const body = JSON.stringify(payload === undefined ? { event, id } : { event, payload, id });
    const init = {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', Accept: 'application/json', ...headers },
      body,
      credentials: opts.credentials,
    };
    let answer;
    try {
      answer = await postWithRetry(doFetch, `${baseUrl}/events/${enc(topic)}`, init, retry, (err) => {
        pending.retrying(rec, err);
        notify();
      });
    } catch (err) {
      pending.failed(rec, err);
      if (pending.refresh(topic)) keyed = null;
      notify();
      throw err;
    }
    pending.answered(rec, answer);
    const e = entries.get(topic);
    if (applyAnswers && answer.topic === topic && Array.isArray(answer.patch) && e && answer.version === e.version + 1) {
      let next;
      try {
        next = patched(topic, e, answer.version, answer.patch);
      } catch (err2) {
        onError(err2); // the stream will bring it (or resync)
      }
      if (next !== undefined) confirm(topic, next, answer.patch, answer.cursor);
    }
    if (pending.refresh(topic)) keyed = null;
    applyBufferedAnswers(topic);
    notify();
    if (lazyState) compact(topic);
    return answer;
  }

  function getState(topic) {
    if (topic !== undefined) return pending.view(topic);
    if (single) return pending.view(topics[0]);
    if (keyed === null) {
      keyed = {};
      for (const t of topics) keyed[t] = pending.view(t);
    }
    return keyed;
  }

  const store = {
    topics,
    getState,
    getVersion: (topic) => entries.get(topic ?? topics[0])?.version,
    getStatus: () => status,
    getPending: () => pending.sendingCount(),
    getPendingEvents: () => pending.list(),
    getConfirmedState: (topic) => entries.get(topic ?? topics[0])?.state,
    isOptimistic: (topic) => pending.optimistic(topic ?? topics[0]),
    getEventStatus: (id) => pending.statusOf(id),
    isConfirmed: (id) => pending.statusOf(id) === 'confirmed',
    clearFailed(id) {
      if (!pending.clearFailed(id)) return;
      notify();
    },
    getCursor: () => lastId,
    get status() {
      return status;
    },
    get pending() {
      return pending.sendingCount();
    },
    get pendingEvents() {
      return pending.list();
    },
    subscribe(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    /** listener({topic, version, patch}) after a patch was applied. */
    onPatch(listener) {
      patchListeners.add(listener);
      return () => patchListeners.delete(listener);
    },
    /** listener({topic, version, state}) after a full state replaced a topic's. */
    onState(listener) {
      stateListeners.add(listener);
      return () => stateListeners.delete(listener);
    },
    push,
    connect,
    close() {
      if (closed) return;
      closed = true;
      generation++;
      resyncing = null;
      dropStream();
      pending.close();
      status = 'closed';
      notify();
    },
  };
  if (opts.autoConnect !== false) connect();
  return store;
}

export default createStateChannel;
