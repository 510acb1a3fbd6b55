// One stream per browser, not per tab.  A browser opens at most 6 HTTP/1.1
// connections per host; a tab that holds an EventSource holds one of them
// for good, so the seventh tab of an app over HTTP/1.1 would get nothing.
// Here the tabs of one origin share one stream per baseUrl:
//
//   * a SharedWorker (./shared-worker.js) where the browser has one: it
//     holds the stream for the union of the tabs' topics;
//   * elsewhere, one tab elected leader with the Web Locks API holds it and
//     relays over a BroadcastChannel; when the leader tab goes, the next
//     tab in the lock's queue takes over (it says "hello", every tab joins
//     again with its cursor and snapshots, and the new stream resumes from
//     the earliest of them).
//
// Either way the stream is held by a hub: a channel of this module
// (createStateChannel, share: false) for the union of the topics, whose
// every confirmed change (a state, or a patch) is passed on as a frame to
// the tabs that follow that topic.  A tab sees what an EventSource would
// show it: "open", "error" (reconnecting), and state / patch frames with
// their ids; its own channel keeps doing what it does with a stream of its
// own (versions, resync on a gap, optimistic updates), so a frame that
// comes twice is ignored by version and one that is missing is a gap.
//
// Messages, tab → hub:  {t: 'join', id, topics, snapshots}, {t: 'leave', id}
// worker mode only:          {t: 'ping'} → {t: 'pong'} (the worker is up), {t: 'tab'}
//                hub → tabs: {t: 'frame', to: [id...], type, topic, data, lastEventId},
//                            {t: 'status', to: [id...], status}
// leader mode only:          {t: 'hello'} (a new leader: join again)

import { createStateChannel } from './index.js';

let nextId = 0;
const newId = () => `${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}-${++nextId}`;

/** The topics of a stream URL (/stream/T or /stream?topic=a&topic=b). */
export function streamTopics(url) {
  const u = new URL(url, 'http://x');
  const m = /\/stream\/([^/?]+)$/.exec(u.pathname);
  if (m) return [decodeURIComponent(m[1])];
  return u.searchParams.getAll('topic');
}

/**
 * The hub: one channel over the union of its members' topics.  send(msg)
 * delivers a message to the members named in msg.to.  join(msg) / leave(id)
 * / close().
 */
export function createHub({ baseUrl, withCredentials, EventSource, fetch, send, debounce = 10 }) {
  const members = new Map(); // id → topics
  let ch = null;
  let off = null;
  let union = [];
  let timer = null;
  const fresh = new Set(); // members that joined while a rebuild was due

  const followers = (topic) => [...members].filter(([, ts]) => ts.includes(topic)).map(([id]) => id);

  function snapshotsOf(c) {
    const cursor = c.getCursor();
    if (!cursor) return [];
    const out = [];
    for (const t of c.topics) {
      const v = c.getVersion(t);
      if (v !== undefined) out.push({ topic: t, version: v, cursor, state: c.getState(t) });
    }
    return out;
  }

  function frame(topic, u) {
    const to = followers(topic);
    if (to.length === 0) return;
    const data = u.type === 'patch' ? { topic, version: u.version, patch: u.patch } : { topic, version: u.version, state: u.state };
    send({ t: 'frame', to, type: u.type, topic, data: JSON.stringify(data), lastEventId: u.cursor || '' });
  }

  // A member starts from what the hub holds of its topics (a state frame
  // each, ignored by version where it has newer); the topics still being
  // fetched come as they arrive.
  function welcome(id, c, withStatus) {
    if (withStatus) send({ t: 'status', to: [id], status: c.status });
    const cursor = c.getCursor() || '';
    for (const t of members.get(id) || []) {
      const v = c.getVersion(t);
      if (v !== undefined) send({ t: 'frame', to: [id], type: 'state', topic: t, data: JSON.stringify({ topic: t, version: v, state: c.getState(t) }), lastEventId: cursor });
    }
  }

  /** (Re)opens the hub's channel for the union, starting from what is known. */
  function rebuild(extra) {
    timer = null;
    const want = [...new Set([...members.values()].flat())].sort();
    if (want.length === 0) {
      stop();
      return;
    }
    if (ch && want.join('\u0000') === union.join('\u0000')) {
      for (const id of fresh) welcome(id, ch, true);
      fresh.clear();
      return;
    }
    const known = new Map();
    if (ch) for (const s of snapshotsOf(ch)) if (want.includes(s.topic)) known.set(s.topic, s);
    // A member's snapshot of a topic the hub does not hold yet (the
    // earliest one: every member can then be served from it).
    for (const s of extra) {
      const k = known.get(s.topic);
      if (want.includes(s.topic) && s.cursor && (!k || (k.fromMember && s.version < k.version))) known.set(s.topic, { ...s, fromMember: true });
    }
    stop();
    union = want;
    const c = createStateChannel({
      baseUrl,
      topics: want,
      initial: [...known.values()].map(({ fromMember, ...s }) => s),
      EventSource,
      fetch,
      withCredentials,
      share: false,
      autoConnect: false,
      onUpdate: (topic, u) => frame(topic, u),
    });
    ch = c;
    // The members that came with this rebuild start from what the hub
    // holds already (the topics it fetches come as they arrive).
    for (const id of fresh) welcome(id, c, false);
    fresh.clear();
    let last = null;
    off = c.subscribe(() => {
      if (c.status === last) return;
      last = c.status;
      if (members.size > 0) send({ t: 'status', to: [...members.keys()], status: last });
    });
    c.connect();
  }

  function stop() {
    if (off) off();
    if (ch) ch.close();
    ch = null;
    off = null;
    union = [];
  }

  const pendingSnapshots = [];
  function schedule(snapshots) {
    pendingSnapshots.push(...(snapshots || []));
    if (timer !== null) return;
    timer = setTimeout(() => rebuild(pendingSnapshots.splice(0)), debounce);
  }

  return {
    join(msg) {
      members.set(msg.id, [...msg.topics]);
      const missing = msg.topics.some((t) => !union.includes(t));
      if (missing || !ch || timer !== null) {
        fresh.add(msg.id);
        schedule(msg.snapshots);
        return;
      }
      welcome(msg.id, ch, true);
    },
    leave(id) {
      if (!members.delete(id)) return;
      schedule([]);
    },
    /** The members (for tests and counting). */
    get size() {
      return members.size;
    },
    get topics() {
      return union;
    },
    close() {
      if (timer !== null) clearTimeout(timer);
      timer = null;
      members.clear();
      stop();
    },
  };
}

/**
 * A tab's EventSource look-alike over the shared stream: what the channel
 * uses in place of `new EventSource(url)`.
 */
class SharedSource {
  constructor(link, url, snapshots) {
    this.id = newId();
    this.url = url;
    this.topics = streamTopics(url);
    this.readyState = 0;
    this.listeners = {};
    this.snapshots = snapshots;
    this.link = link;
    link.attach(this);
  }

  addEventListener(type, fn) {
    (this.listeners[type] ||= []).push(fn);
  }

  close() {
    if (this.readyState === 2) return;
    this.readyState = 2;
    this.link.detach(this);
  }

  joinMessage() {
    return { t: 'join', id: this.id, topics: this.topics, snapshots: this.snapshots ? this.snapshots() : [] };
  }

  dispatch(type, ev) {
    if (this.readyState === 2) return;
    for (const fn of this.listeners[type] || []) fn(ev);
  }

  receive(msg) {
    if (msg.t === 'status') {
      if (msg.status === 'open') {
        this.readyState = 1;
        this.dispatch('open', { type: 'open' });
      } else if (msg.status === 'reconnecting') {
        this.readyState = 0;
        this.dispatch('error', { type: 'error' });
      }
    } else if (msg.t === 'frame') {
      this.dispatch(msg.type, { type: msg.type, data: msg.data, lastEventId: msg.lastEventId });
    }
  }
}

/**
 * A tab's side of the sharing for one baseUrl: link.open(url, { snapshots })
 * → an EventSource look-alike.  deps (for tests): { mode: 'worker' |
 * 'leader', SharedWorker, workerUrl, BroadcastChannel, locks, EventSource,
 * fetch }.
 */
export function createSharedLink(baseUrl, deps = {}) {
  const g = globalThis;
  const abs = new URL(baseUrl || '/', g.location ? g.location.href : 'http://localhost/').href;
  const key = `statechannel:${abs}:${deps.withCredentials ? 'c' : ''}`;
  const sources = new Map(); // id → SharedSource
  const SW = deps.SharedWorker ?? g.SharedWorker;
  const BC = deps.BroadcastChannel ?? g.BroadcastChannel;
  const locks = deps.locks ?? g.navigator?.locks;
  const canLead = !!(BC && locks);
  let mode = deps.mode || (SW ? 'worker' : canLead ? 'leader' : null);
  if (!mode) return null;

  const route = (msg) => {
    for (const id of msg.to || []) sources.get(id)?.receive(msg);
  };
  let post;
  let link;
  let closeTransport = () => {};

  function newWorker() {
    const opts = { type: 'module', name: 'statechannel' };
    if (deps.SharedWorker || deps.workerUrl) return new SW(deps.workerUrl || 'statechannel-shared-worker', opts);
    // Written out whole so that bundlers (webpack, Vite) recognise it and
    // ship the worker with its imports as a chunk of its own.
    return new SharedWorker(new URL('./shared-worker.js', import.meta.url), { type: 'module', name: 'statechannel' });
  }

  function startWorker() {
    const worker = newWorker();
    const tab = newId();
    let alive = false;
    let watchdog = null;
    // A worker that cannot load (a bundler that did not ship it, a script
    // that fails) or never answers: the leader fallback instead.
    const fallBack = () => {
      if (watchdog !== null) clearTimeout(watchdog);
      watchdog = null;
      if (mode !== 'worker' || !canLead || link.closed) return;
      worker.port.close();
      mode = 'leader';
      link.mode = mode;
      startLeader();
      for (const s of sources.values()) post(s.joinMessage());
    };
    worker.port.onmessage = (e) => {
      if (!alive) {
        alive = true;
        if (watchdog !== null) clearTimeout(watchdog);
        watchdog = null;
      }
      route(e.data);
    };
    worker.port.start();
    closeTransport = () => {
      if (watchdog !== null) clearTimeout(watchdog);
      watchdog = null;
      worker.port.close();
    };
    post = (msg) => worker.port.postMessage({ ...msg, key, baseUrl: abs, withCredentials: !!deps.withCredentials, tab });
    worker.onerror = fallBack;
    // The worker answers a ping at once; without an answer in
    // workerTimeout ms (default 5 s), the tab stops waiting for it.
    const wait = deps.workerTimeout ?? 5000;
    if (canLead && wait > 0) watchdog = setTimeout(fallBack, wait);
    post({ t: 'ping' });
    // The worker learns that this tab is gone when the lock it holds is
    // released (the tab closed or crashed).
    if (locks) {
      locks.request(`${key}:tab:${tab}`, () => {
        post({ t: 'tab' });
        return new Promise(() => {});
      });
    }
  }

  function startLeader() {
    const bc = new BC(key);
    closeTransport = () => bc.close();
    let hub = null;
    const hubSend = (msg) => {
      bc.postMessage(msg);
      route(msg);
    };
    bc.onmessage = (e) => {
      const msg = e.data;
      if (msg.t === 'hello') {
        for (const s of sources.values()) post(s.joinMessage());
      } else if (msg.t === 'join') hub?.join(msg);
      else if (msg.t === 'leave') hub?.leave(msg.id);
      else route(msg);
    };
    post = (msg) => {
      if (hub) {
        if (msg.t === 'join') hub.join(msg);
        else if (msg.t === 'leave') hub.leave(msg.id);
      } else bc.postMessage(msg);
    };
    // Leader: whoever holds the lock; the others wait in its queue.
    locks.request(`${key}:leader`, () => {
      if (link.closed) return undefined;
      hub = createHub({ baseUrl: abs, withCredentials: deps.withCredentials, EventSource: deps.EventSource, fetch: deps.fetch, send: hubSend, debounce: deps.debounce ?? 50 });
      link.leader = true;
      for (const s of sources.values()) hub.join(s.joinMessage());
      bc.postMessage({ t: 'hello' });
      return new Promise((resolve) => {
        link.resign = () => {
          hub.close();
          hub = null;
          link.leader = false;
          resolve();
        };
      });
    });
  }

  link = {
    mode,
    closed: false,
    leader: false,
    resign: null,
    open(url, opts = {}) {
      return new SharedSource(link, url, opts.snapshots);
    },
    attach(s) {
      sources.set(s.id, s);
      post(s.joinMessage());
    },
    detach(s) {
      sources.delete(s.id);
      post({ t: 'leave', id: s.id });
    },
    /** This tab leaves (as a closing tab would): its sources go, a leader resigns. */
    close() {
      if (link.closed) return;
      for (const src of [...sources.values()]) src.close();
      link.closed = true;
      if (link.resign) link.resign();
      closeTransport();
    },
  };
  if (mode === 'worker') startWorker();
  else startLeader();
  return link;
}

const links = new Map();

/** The shared link of this tab for baseUrl (made once), or null when the browser can share nothing. */
export function sharedLink(baseUrl, withCredentials) {
  const k = `${baseUrl}\u0000${withCredentials ? 1 : 0}`;
  if (!links.has(k)) links.set(k, createSharedLink(baseUrl, { withCredentials }));
  return links.get(k);
}

/**
 * The SharedWorker's side: serves every tab that connects (scope: the
 * worker's global).  One hub per baseUrl (and credentials).
 */
export function serveSharedWorker(scope) {
  const hubs = new Map(); // key → { hub, ports: Map tab → port, members: Map tab → Set id }
  scope.onconnect = (e) => {
    const port = e.ports[0];
    port.onmessage = (m) => handle(port, m.data);
    port.start();
  };
  function entry(msg) {
    let h = hubs.get(msg.key);
    if (!h) {
      h = { ports: new Map(), members: new Map() };
      h.hub = createHub({
        baseUrl: msg.baseUrl,
        withCredentials: msg.withCredentials,
        EventSource: scope.EventSource,
        fetch: (...a) => scope.fetch(...a),
        send: (out) => {
          // one message per tab, naming its sources
          const byTab = new Map();
          for (const id of out.to) {
            for (const [tab, ids] of h.members) if (ids.has(id)) (byTab.get(tab) || byTab.set(tab, []).get(tab)).push(id);
          }
          for (const [tab, to] of byTab) h.ports.get(tab)?.postMessage({ ...out, to });
        },
      });
      hubs.set(msg.key, h);
    }
    return h;
  }
  function handle(port, msg) {
    if (msg.t === 'ping') {
      port.postMessage({ t: 'pong' });
      return;
    }
    const h = entry(msg);
    h.ports.set(msg.tab, port);
    if (!h.members.has(msg.tab)) h.members.set(msg.tab, new Set());
    if (msg.t === 'tab' && scope.navigator?.locks) {
      // granted when the tab's own lock is released: the tab is gone
      scope.navigator.locks.request(`${msg.key}:tab:${msg.tab}`, () => {
        for (const id of h.members.get(msg.tab) || []) h.hub.leave(id);
        h.members.delete(msg.tab);
        h.ports.delete(msg.tab);
      });
    } else if (msg.t === 'join') {
      h.members.get(msg.tab).add(msg.id);
      h.hub.join(msg);
    } else if (msg.t === 'leave') {
      h.members.get(msg.tab).delete(msg.id);
      h.hub.leave(msg.id);
    }
  }
}
