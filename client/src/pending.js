// The optimistic layer of a channel: the events pushed and not yet
// confirmed, in push order, and what each topic shows.
//
//   visible(topic) = base(topic) + the mutator of every live pending event
//                    of that topic, replayed in push order
//
// base is the confirmed state (the server's, from the stream, the POST
// answers and resyncs), except while an event of that topic with a mutator
// is in flight (sent, no answer yet): then a patch from the stream may be
// that very event, and showing it under its own prediction would show the
// change twice (an item added twice, a toggle flipped back) until the
// answer comes.  So base stays where it was until every such answer is in,
// or holdMs has passed; then everything is rebased at once.  An event
// confirmed during a hold stays in the replay on the held base (so its
// change does not vanish) and leaves it when the hold ends.
//
// An event leaves the list when the confirmed state reaches the version its
// answer gave (it is then "confirmed"); a final error makes it "failed": its
// prediction is gone, and it stays in the list, with its error, until
// clearFailed().  A mutator that throws (or whose patch does not apply)
// counts as no prediction: it is reported once through onError.

import { applyPatch } from './patch.js';

const KEEP_SETTLED = 1024; // ids remembered as confirmed, for eventStatus()

/** A mutator's result read as a JSON Patch: an array of operations. */
export function isPatch(v) {
  return Array.isArray(v) && v.every((op) => op !== null && typeof op === 'object' && typeof op.op === 'string' && typeof op.path === 'string');
}

/**
 * confirmed: Map topic → { state, version } (owned by the channel);
 * onChange(topic): the visible state of topic changed (not called while
 * the channel itself asks for a rebase); schedule(fn, ms) / cancel(t) for
 * the hold timer.
 */
export function createPending({ mutators, confirmed, onError, holdMs, onChange, schedule, cancel }) {
  const queue = []; // records in push order
  const views = new Map(); // topic → visible state, when it is not the confirmed one
  const bases = new Map(); // topic → { state, timer }: a held base
  const settled = new Map(); // id → 'confirmed', the newest KEEP_SETTLED
  let snapshot = null; // the frozen public list, rebuilt after a change

  const mutatorOf = (event) => (mutators && Object.prototype.hasOwnProperty.call(mutators, event) && typeof mutators[event] === 'function' ? mutators[event] : null);
  const live = (r) => r.status !== 'failed' && r.status !== 'confirmed';
  const inFlight = (r) => r.status === 'sending' || r.status === 'retrying';

  function predict(state, r) {
    const m = mutatorOf(r.event);
    if (m === null) return state;
    try {
      const out = m(state, r.payload, { topic: r.topic, id: r.id, event: r.event });
      if (out === undefined) return state;
      return isPatch(out) ? applyPatch(state, out) : out;
    } catch (err) {
      if (!r.reported) {
        r.reported = true;
        try {
          onError(err);
        } catch {
          /* the report itself failed: nothing more to do */
        }
      }
      return state;
    }
  }

  function baseOf(topic) {
    const b = bases.get(topic);
    if (b) return b.state;
    return confirmed.get(topic)?.state;
  }

  /** Replays the live events of topic on its base; true when the visible state changed. */
  function rebase(topic) {
    // Nothing of topic pending nor held: what is shown is the confirmed
    // state before and after (not read here: with lazyState it is built
    // only when something reads it).
    if (!views.has(topic) && !bases.has(topic) && !queue.some((r) => r.topic === topic)) return false;
    const before = view(topic);
    const base = baseOf(topic);
    const held = bases.get(topic);
    // on a held base: also the events confirmed past it
    const replayed = (r) => live(r) || (held !== undefined && r.status === 'confirmed' && r.version > held.version);
    let s = base;
    if (base !== undefined) for (const r of queue) if (r.topic === topic && replayed(r)) s = predict(s, r);
    if (s === confirmed.get(topic)?.state) views.delete(topic);
    else views.set(topic, s);
    return s !== before;
  }

  function view(topic) {
    return views.has(topic) ? views.get(topic) : confirmed.get(topic)?.state;
  }

  function holding(topic) {
    return queue.some((r) => r.topic === topic && inFlight(r) && mutatorOf(r.event) !== null);
  }

  function release(topic) {
    const b = bases.get(topic);
    if (!b) return;
    if (b.timer !== null) cancel(b.timer);
    bases.delete(topic);
    for (let i = 0; i < queue.length; i++) if (queue[i].topic === topic && queue[i].status === 'confirmed') queue.splice(i--, 1);
  }

  function changed() {
    snapshot = null;
  }

  function settle(topic) {
    const v = confirmed.get(topic)?.version;
    if (v === undefined) return;
    for (let i = 0; i < queue.length; i++) {
      const r = queue[i];
      if (r.topic !== topic || r.status !== 'answered' || r.version > v) continue;
      r.status = 'confirmed';
      if (!bases.has(topic)) queue.splice(i--, 1);
      settled.set(r.id, 'confirmed');
      if (settled.size > KEEP_SETTLED) settled.delete(settled.keys().next().value);
      changed();
    }
  }

  return {
    view,

    /** Whether what topic shows is not its confirmed state (predictions, a held base). */
    optimistic: (topic) => views.has(topic),

    /** A new event: shown at once (its mutator on top of what is shown). */
    add(r) {
      r.status = 'sending';
      queue.push(r);
      changed();
      const cur = view(r.topic);
      if (cur === undefined || mutatorOf(r.event) === null) return false;
      const next = predict(cur, r);
      if (next === cur) return false;
      views.set(r.topic, next);
      return true;
    },

    /**
     * The confirmed state of topic changed through the stream or a resync
     * (it was prev before: { state, version } or undefined).  Returns true
     * when the visible state changed.
     */
    advanced(topic, prev) {
      if (holdMs > 0 && holding(topic)) {
        if (!bases.has(topic) && prev !== undefined) {
          // what is shown stays: prev with the predictions on top
          if (!views.has(topic)) views.set(topic, prev.state);
          const b = { state: prev.state, version: prev.version, timer: null };
          bases.set(topic, b);
          b.timer = schedule(() => {
            b.timer = null;
            if (bases.get(topic) !== b) return;
            release(topic);
            if (rebase(topic)) onChange(topic);
          }, holdMs);
        }
        if (bases.has(topic)) {
          settle(topic);
          return false;
        }
      }
      settle(topic);
      release(topic);
      return rebase(topic);
    },

    /** r got its answer (version, and the answer when its patch could not be applied yet). */
    answered(r, answer) {
      r.status = 'answered';
      r.version = answer.version;
      r.answer = answer;
      changed();
    },

    retrying(r, err) {
      if (r.status === 'retrying' && r.error === err) return;
      r.status = 'retrying';
      r.error = err;
      changed();
    },

    failed(r, err) {
      r.status = 'failed';
      r.error = err;
      delete r.answer;
      changed();
    },

    /** A rebase of topic after an answer or a failure (the hold ends when nothing is in flight). */
    refresh(topic) {
      settle(topic);
      if (!holding(topic)) release(topic);
      return rebase(topic);
    },

    /** The buffered answer patch that takes topic from version v to v + 1, or null. */
    answerAfter(topic, v) {
      for (const r of queue) if (r.topic === topic && r.status === 'answered' && r.version === v + 1 && Array.isArray(r.answer?.patch)) return r.answer;
      return null;
    },

    /** Another database (a new epoch): the versions of answered events mean nothing there. */
    forget(topic) {
      for (let i = 0; i < queue.length; i++) if (queue[i].topic === topic && queue[i].status === 'answered') queue.splice(i--, 1);
      changed();
    },

    /** Drops failed events (all, or the one with this id); true when one was dropped. */
    clearFailed(id) {
      const n = queue.length;
      for (let i = 0; i < queue.length; i++) if (queue[i].status === 'failed' && (id === undefined || queue[i].id === id)) queue.splice(i--, 1);
      if (queue.length === n) return false;
      changed();
      return true;
    },

    /** 'sending' | 'retrying' | 'answered' | 'failed' | 'confirmed' | undefined */
    statusOf(id) {
      const r = queue.find((x) => x.id === id);
      return r ? r.status : settled.get(id);
    },

    /** Events sent and not yet answered. */
    sendingCount() {
      let n = 0;
      for (const r of queue) if (inFlight(r)) n++;
      return n;
    },

    /** The frozen list of pending events (the same array until it changes). */
    list() {
      if (snapshot === null) {
        snapshot = Object.freeze(
          queue.filter((r) => r.status !== 'confirmed').map((r) => Object.freeze({ id: r.id, topic: r.topic, event: r.event, payload: r.payload, status: r.status, ...(r.error ? { error: r.error } : {}) })),
        );
      }
      return snapshot;
    },

    close() {
      for (const t of [...bases.keys()]) release(t);
    },
  };
}
