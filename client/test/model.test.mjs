// A model-based randomized test of optimistic updates: several clients
// against a fake server that runs the shopping list's real events, with a
// scheduler that picks at random what happens next: a push, the server
// taking a request, an answer arriving (POST answers and stream frames in
// any order relative to each other), a stream frame arriving (sometimes
// twice, sometimes lost: a gap and a GET /state resync), a connection
// broken (the client resumes from its cursor), a full state frame, a 503
// before the server saw the request, an answer lost after the event was
// stored (sent again with the same id), 422s for invalid events.
//
// At every step, for every client: the visible state is its confirmed
// state with the mutators of its live pending events replayed in push
// order (with the hold on, while one of its events is in flight: replayed
// on one of the confirmed states it has had since).  At the end every
// client shows exactly the server's state, with nothing pending.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createStateChannel, applyPatch, isPatch } from '../src/index.js';

function prng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const TOPIC = 'list:m';

/** The server's side of the events: ops for (state, event, payload), or a 422 code. */
function serverEvent(s, event, p) {
  const i = s.items.findIndex((it) => it.id === p.id);
  const name = typeof p.name === 'string' ? p.name.trim() : '';
  switch (event) {
    case 'add':
      if (!name) return { reject: 'bad_name' };
      return {
        ops: [
          { op: 'add', path: '/items/-', value: { id: `i${s.next_id}`, name, bought: false } },
          { op: 'replace', path: '/next_id', value: s.next_id + 1 },
        ],
      };
    case 'toggle':
      if (i < 0) return { reject: 'no_item' };
      return { ops: [{ op: 'replace', path: `/items/${i}/bought`, value: !s.items[i].bought }] };
    case 'rename':
      if (i < 0) return { reject: 'no_item' };
      if (!name) return { reject: 'bad_name' };
      return { ops: [{ op: 'replace', path: `/items/${i}/name`, value: name }] };
    case 'remove':
      if (i < 0) return { reject: 'no_item' };
      return { ops: [{ op: 'remove', path: `/items/${i}` }] };
    default:
      return { reject: 'unknown_event' };
  }
}

// The clients' predictions: the same logic without the validation (an
// invalid event is shown until its 422 rolls it back); an unknown item: no
// prediction.
const mutators = {
  add: (s, p) => ({ ...s, items: [...s.items, { id: `i${s.next_id}`, name: p.name.trim(), bought: false }], next_id: s.next_id + 1 }),
  toggle: (s, p) => (s.items.some((it) => it.id === p.id) ? { ...s, items: s.items.map((it) => (it.id === p.id ? { ...it, bought: !it.bought } : it)) } : undefined),
  rename(s, p) {
    const i = s.items.findIndex((it) => it.id === p.id);
    return i < 0 ? undefined : [{ op: 'replace', path: `/items/${i}/name`, value: p.name.trim() }];
  },
  remove(s, p) {
    const i = s.items.findIndex((it) => it.id === p.id);
    return i < 0 ? undefined : [{ op: 'remove', path: `/items/${i}` }];
  },
};

function replay(state, events) {
  let s = state;
  for (const e of events) {
    if (e.status === 'failed' || !mutators[e.event]) continue;
    const out = mutators[e.event](s, e.payload);
    if (out !== undefined) s = isPatch(out) ? applyPatch(s, out) : out;
  }
  return s;
}

function jsonResponse(status, body) {
  return new Response(JSON.stringify(body), { status, headers: { 'Content-Type': 'application/json' } });
}

class Server {
  constructor() {
    this.state = { items: [], next_id: 1 };
    this.version = 1;
    this.seq = 0;
    this.log = []; // { seq, version, patch }
    this.answers = new Map(); // idempotency id → the first answer
    this.conns = new Set();
    this.processed = 0;
  }

  post(body) {
    const seen = this.answers.get(body.id);
    if (seen) return jsonResponse(200, seen);
    const r = serverEvent(this.state, body.event, body.payload);
    if (r.reject) return jsonResponse(422, { error: { code: r.reject, message: `refused: ${r.reject}` } });
    this.processed++;
    this.state = applyPatch(this.state, r.ops);
    this.version++;
    this.seq++;
    this.log.push({ seq: this.seq, version: this.version, patch: r.ops });
    const answer = { topic: TOPIC, version: this.version, cursor: `E:${this.seq}`, patch: r.ops };
    this.answers.set(body.id, answer);
    for (const c of this.conns) c.queue.push(['patch', { topic: TOPIC, version: this.version, patch: r.ops }, `E:${this.seq}`]);
    return jsonResponse(200, answer);
  }

  snapshot() {
    return jsonResponse(200, { topic: TOPIC, version: this.version, cursor: `E:${this.seq}`, state: this.state });
  }

  stateFrame() {
    return ['state', { topic: TOPIC, version: this.version, state: this.state }, `E:${this.seq}`];
  }

  /** A new stream: from `after`, the log past it; else a state frame. */
  connect(conn, after) {
    this.conns.add(conn);
    conn.queue.push(['open']);
    if (after == null) conn.queue.push(this.stateFrame());
    else for (const e of this.log) if (e.seq > Number(after.split(':')[1])) conn.queue.push(['patch', { topic: TOPIC, version: e.version, patch: e.patch }, `E:${e.seq}`]);
  }
}

async function runModel(seed, { clients: nClients = 3, steps = 400, holdMs = 0, applyAnswers = true, lazyState = false } = {}) {
  const rnd = prng(seed);
  const pick = (a) => a[Math.floor(rnd() * a.length)];
  const server = new Server();
  const requests = []; // fetches: { client, call, resolve, reject, response | null }
  const conns = [];
  const clients = [];
  const stats = { pushes: 0, rejected: 0, resyncs: 0, dup: 0, dropped: 0, broken: 0, lost: 0, busy: 0, reordered: 0 };

  for (let c = 0; c < nClients; c++) {
    class ModelES {
      constructor(url) {
        this.url = url;
        this.readyState = 0;
        this.listeners = {};
        this.queue = [];
        this.client = c;
        conns.push(this);
        const after = new URL(url, 'http://x').searchParams.get('after');
        server.connect(this, after);
      }
      addEventListener(t, fn) {
        (this.listeners[t] ||= []).push(fn);
      }
      close() {
        this.readyState = 2;
        server.conns.delete(this);
        this.queue.length = 0;
      }
      dispatch(t, ev) {
        for (const fn of this.listeners[t] || []) fn(ev);
      }
    }
    const fetch = (url, init = {}) =>
      new Promise((resolve, reject) => {
        requests.push({ client: c, url: String(url), init, resolve, reject, response: null });
      });
    const ch = createStateChannel({
      topic: TOPIC,
      EventSource: ModelES,
      fetch,
      mutators,
      holdMs,
      applyAnswers,
      lazyState,
      retry: { attempts: 1000, baseDelay: 0, maxDelay: 0 },
      reconnect: { baseDelay: 0, maxDelay: 0 },
    });
    // history: the confirmed states it has had; pushes: its events in
    // push order, with the version their answer gave.
    const me = { ch, history: [], pushes: [] };
    ch.subscribe(() => {
      const s = ch.getConfirmedState();
      if (s !== undefined && me.history.at(-1)?.state !== s) me.history.push({ state: s, version: ch.getVersion() });
      if (me.history.length > 5000) me.history.shift();
    });
    clients.push(me);
  }

  const flush = async () => {
    for (let i = 0; i < 4; i++) await new Promise((r) => setImmediate(r));
  };

  function check(step) {
    for (const [i, { ch, history, pushes }] of clients.entries()) {
      const confirmed = ch.getConfirmedState();
      if (confirmed === undefined) continue;
      const events = ch.getPendingEvents();
      const held = holdMs > 0 && events.some((e) => (e.status === 'sending' || e.status === 'retrying') && mutators[e.event]);
      const visible = ch.getState();
      if (!held) {
        assert.deepEqual(visible, replay(confirmed, events), `seed ${seed} step ${step} client ${i}: visible = confirmed + pending`);
      } else {
        // on a held base b: the live events and those confirmed after b
        const on = (b) =>
          replay(
            b.state,
            pushes.filter((p) => {
              const st = ch.getEventStatus(p.id);
              return st === 'sending' || st === 'retrying' || st === 'answered' || (st === 'confirmed' && p.version > b.version);
            }),
          );
        const v = JSON.stringify(visible);
        if (process.env.MODEL_DEBUG && !history.some((b) => JSON.stringify(on(b)) === v)) {
          console.log('visible', v, '\nconfirmed', JSON.stringify(confirmed), ch.getVersion(), 'history', history.length, JSON.stringify(history));
          for (const b of history.slice(-6)) console.log('base', b.version, JSON.stringify(on(b)));
          for (const p of pushes.slice(-8)) console.log('push', p.event, JSON.stringify(p.payload), ch.getEventStatus(p.id), p.version);
        }
        assert.ok(
          history.some((b) => JSON.stringify(on(b)) === v),
          `seed ${seed} step ${step} client ${i}: visible = one of its confirmed states + pending`,
        );
      }
    }
  }

  function randomEvent(state) {
    const items = state ? state.items : [];
    const some = () => (items.length && rnd() < 0.9 ? pick(items).id : `i${Math.floor(rnd() * 40)}`);
    const name = () => (rnd() < 0.1 ? '  ' : pick(['Milk', 'Eggs', 'Tea', ' Jam ', 'Rice', 'Figs']));
    switch (pick(['add', 'add', 'toggle', 'rename', 'remove'])) {
      case 'add':
        return ['add', { name: name() }];
      case 'toggle':
        return ['toggle', { id: some() }];
      case 'rename':
        return ['rename', { id: some(), name: name() }];
      default:
        return ['remove', { id: some() }];
    }
  }

  // Takes one request on the server (maybe with a fault), or delivers its answer.
  function serve(r, faults) {
    if (r.response !== null) {
      requests.splice(requests.indexOf(r), 1);
      if (r.response === 'lost') r.reject(new TypeError('connection reset'));
      else r.resolve(r.response);
      return;
    }
    if (r.url.includes('/state/')) {
      r.response = server.snapshot();
      return;
    }
    const x = rnd();
    if (faults && x < 0.08) {
      stats.busy++;
      r.response = new Response('<html>503 Service Unavailable</html>', { status: 503 });
      return;
    }
    r.response = server.post(JSON.parse(r.init.body));
    if (faults && x < 0.16 && r.response.status === 200) {
      stats.lost++;
      r.response = 'lost';
    }
  }

  function stream(conn, faults) {
    const f = conn.queue[0];
    const x = rnd();
    if (faults && x < 0.03 && f[0] === 'patch') {
      stats.dropped++; // lost: the next one is a gap
      conn.queue.shift();
      return;
    }
    if (!(faults && x < 0.1 && f[0] !== 'open')) conn.queue.shift();
    else stats.dup++;
    if (f[0] === 'open') {
      conn.readyState = 1;
      conn.dispatch('open', { type: 'open' });
    } else conn.dispatch(f[0], { type: f[0], data: JSON.stringify(f[1]), lastEventId: f[2] });
  }

  for (let step = 0; step < steps; step++) {
    const live = conns.filter((k) => k.readyState !== 2);
    const withFrames = live.filter((k) => k.queue.length > 0);
    const x = rnd();
    if (x < 0.25) {
      const me = pick(clients);
      const [ev, payload] = randomEvent(me.ch.getState());
      stats.pushes++;
      const rec = { id: null, event: ev, payload, version: Infinity };
      const p = me.ch.push(ev, payload);
      rec.id = p.id;
      me.pushes.push(rec);
      p.then(
        (a) => (rec.version = a.version),
        (e) => {
          if (e.status !== 422) throw e;
          stats.rejected++;
        },
      );
      // the application clears what it has shown, now and then
      if (rnd() < 0.3) me.ch.clearFailed();
    } else if (x < 0.6 && requests.length > 0) {
      const r = pick(requests);
      if (r.response !== null && requests.some((o) => o !== r && o.response !== null)) stats.reordered++;
      serve(r, true);
    } else if (x < 0.94 && withFrames.length > 0) {
      stream(pick(withFrames), true);
    } else if (x < 0.97 && live.length > 0) {
      stats.broken++;
      const k = pick(live);
      k.close();
      k.dispatch('error', { type: 'error' }); // the browser gave up: the client reopens from its cursor
    } else if (live.length > 0) {
      stats.resyncs++;
      pick(live).queue.push(server.stateFrame());
    }
    await flush();
    check(step);
  }

  // No more faults: everything is delivered until nothing moves.
  for (let quiet = 0; quiet < 20; ) {
    const live = conns.filter((k) => k.readyState !== 2 && k.queue.length > 0);
    if (requests.length > 0) serve(requests[0], false);
    else if (live.length > 0) stream(live[0], false);
    else {
      quiet++;
      await new Promise((r) => setTimeout(r, 1));
      continue;
    }
    quiet = 0;
    await flush();
    check('end');
  }
  for (const [i, { ch }] of clients.entries()) {
    assert.deepEqual(ch.getState(), server.state, `seed ${seed}: client ${i} shows the server's state`);
    assert.equal(ch.getVersion(), server.version, `seed ${seed}: client ${i} is at the server's version`);
    assert.deepEqual(
      ch.getPendingEvents().filter((e) => e.status !== 'failed'),
      [],
      `seed ${seed}: client ${i} has nothing pending`,
    );
    ch.close();
  }
  return { ...stats, processed: server.processed, version: server.version };
}

const SEEDS = Number(process.env.MODEL_SEEDS || 12);

for (const mode of [
  { name: 'rebase at once (holdMs 0)', holdMs: 0 },
  { name: 'hold while in flight', holdMs: 60000 },
  { name: 'answers not applied (the stream confirms)', holdMs: 0, applyAnswers: false },
  { name: 'lazyState (patches kept until read), hold while in flight', holdMs: 60000, lazyState: true },
]) {
  test(`model: 3 clients, random delays, reordering, duplicates, losses, 422s, resyncs — ${mode.name}`, async () => {
    const total = {};
    for (let seed = Number(process.env.MODEL_FIRST || 1); seed <= SEEDS; seed++) {
      const t0 = Date.now();
      const s = await runModel(seed * 7919 + (mode.holdMs ? 1 : 0), mode);
      if (process.env.MODEL_DEBUG) console.log(`seed ${seed}: ${Date.now() - t0} ms`);
      for (const [k, v] of Object.entries(s)) total[k] = (total[k] || 0) + v;
    }
    // the faults did happen
    for (const k of ['pushes', 'rejected', 'resyncs', 'dup', 'dropped', 'broken', 'lost', 'busy', 'reordered', 'processed']) assert.ok(total[k] > 0, `${k}: ${total[k]}`);
    console.log(`# ${mode.name}: ${JSON.stringify(total)}`);
  });
}
