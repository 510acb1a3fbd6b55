// SolidJS binding of statechannel-client: the server's patches as Solid
// store updates.
//
//   const [state, { push, status, pending, version }] =
//     createStateChannelStore({ baseUrl: '', topic: 'list:groceries' });
//   <For each={state.items}>{(item) => <li>{item.name}</li>}</For>
//
// Every operation of an incoming patch becomes one store write at the path
// it names ("replace /items/3/name" is what setStore('items', 3, 'name', v)
// does: Solid's own write of that key, here reached directly from the node
// the path names instead of by setStore's path walk), all the operations of
// a patch in one batch: only the signals on the changed paths fire, nothing
// is cloned but the operation's own value, nothing is diffed.  A full state (the first snapshot, a resync) goes
// through reconcile (keyed by "id"), so the rows that did not change keep
// their identity.
//
// The store is the adapter's own copy: Solid changes its objects in place,
// the channel's states stay immutable for everyone else (getState(), React).
// The channel this adapter makes has lazyState: it does not apply the
// patches itself until something reads its state, so a frame costs its
// store writes and nothing more.  What the store shows of a topic is either
// the confirmed state of a version (followed patch by patch) or the
// channel's optimistic state (reconciled): a patch that does not follow
// the version shown, a topic with predictions on top (the client's
// optimistic updates), a rollback, are reconciled against
// channel.getState().

import { $PROXY, batch, createSignal, getOwner, onCleanup } from 'solid-js';
import { createStore, produce, reconcile, unwrap } from 'solid-js/store';
import { createStateChannel } from './index.js';
import { parsePointer, jsonEqual, PatchError } from './patch.js';

export { createStateChannel };

const EMPTY = Object.freeze([]);

function isContainer(v) {
  return v !== null && typeof v === 'object';
}

/** A deep copy of a JSON value (the store's objects are its own). */
export function cloneJSON(v) {
  if (!isContainer(v)) return v;
  if (Array.isArray(v)) {
    const a = new Array(v.length);
    for (let i = 0; i < v.length; i++) a[i] = cloneJSON(v[i]);
    return a;
  }
  const o = {};
  for (const k in v) if (Object.prototype.hasOwnProperty.call(v, k)) o[k] = cloneJSON(v[k]);
  return o;
}

function child(node, key, path) {
  if (Array.isArray(node)) {
    if (!/^(?:0|[1-9][0-9]*)$/.test(key) || Number(key) >= node.length) throw new PatchError(`no value at "${path}"`);
    return node[Number(key)];
  }
  if (!isContainer(node) || !Object.prototype.hasOwnProperty.call(node, key)) throw new PatchError(`no value at "${path}"`);
  return node[key];
}

// The node that holds the last key of pointer, walked along the string (no
// arrays made), the key in lastKey; null when the pointer is the root or
// has an escape ("~"): the general path (parsePointer).
let lastKey = '';
function parentOf(doc, pointer) {
  if (typeof pointer !== 'string' || pointer.length < 2 || pointer.charCodeAt(0) !== 47 || pointer.indexOf('~') !== -1) return null;
  let node = doc;
  let start = 1;
  for (;;) {
    const end = pointer.indexOf('/', start);
    if (end === -1) {
      lastKey = pointer.slice(start);
      return node;
    }
    node = child(node, pointer.slice(start, end), pointer);
    start = end + 1;
  }
}

function walk(node, parts, end, path) {
  for (let i = 0; i < end; i++) node = child(node, parts[i], path);
  return node;
}

function arrayIndex(arr, key, forAdd) {
  if (forAdd && key === '-') return arr.length;
  const i = Number(key);
  if (!/^(?:0|[1-9][0-9]*)$/.test(key) || i > arr.length || (!forAdd && i === arr.length)) throw new PatchError(`"${key}" is not an index of this array`);
  return i;
}

// The writable view of a store node: produce's proxy, whose writes are
// Solid's own store writes (the signal of the key fires, and the array's
// length and the node's own signal when they change).  Reached directly
// from the raw node the op names: no path walk, no path arrays.
let grabbed = null;
const grab = produce((w) => {
  grabbed = w;
});
function writable(raw) {
  grab(raw);
  const w = grabbed;
  grabbed = null;
  return w;
}

/**
 * Applies an RFC 6902 patch to a Solid store, one store write per op at
 * the path it names, all in one batch.  `base` is the path of the
 * document in the store ([] for the root).  Throws a PatchError when an op
 * fails (the ops before it are applied).
 */
export function applyPatchToStore(store, patch, base = EMPTY) {
  batch(() => {
    const raw = unwrap(store);
    const doc = walk(raw, base, base.length, '');
    for (const op of patch) {
      if ((op.op === 'replace' || op.op === 'add') && quickPut(doc, op)) continue;
      const parts = parsePointer(op.path);
      switch (op.op) {
        case 'add':
          put(raw, base, doc, parts, cloneJSON(op.value), true, op.path);
          break;
        case 'replace':
          put(raw, base, doc, parts, cloneJSON(op.value), false, op.path);
          break;
        case 'remove':
          remove(raw, base, doc, parts, op.path);
          break;
        case 'move': {
          if (op.from === op.path) break;
          const from = parsePointer(op.from);
          const v = walk(doc, from, from.length, op.from);
          remove(raw, base, doc, from, op.from);
          put(raw, base, doc, parts, v, true, op.path);
          break;
        }
        case 'copy': {
          const from = parsePointer(op.from);
          put(raw, base, doc, parts, cloneJSON(walk(doc, from, from.length, op.from)), true, op.path);
          break;
        }
        case 'test':
          if (!jsonEqual(walk(doc, parts, parts.length, op.path), op.value)) throw new PatchError(`test failed at "${op.path}"`);
          break;
        default:
          throw new PatchError(`unknown op "${op.op}"`);
      }
    }
  });
}

// Sets key of a node to value: an object or array replacing one of the
// same kind (and the same "id", as reconcile keys them) is reconciled into
// it, so its unchanged parts keep their identity and signals; anything
// else is one write.
function set(node, key, value) {
  const prev = node[key];
  if (isContainer(prev) && isContainer(value) && Array.isArray(prev) === Array.isArray(value) && prev.id === value.id) reconcile(value)(prev);
  else writable(node)[key] = value;
}

// The common add and replace: a key of an object, an item of an array
// replaced or appended, found along the path string.  false: not one of
// those (the root, an escape, an insert in the middle): put() does it.
function quickPut(doc, op) {
  const parent = parentOf(doc, op.path);
  if (parent === null || !Object.prototype.hasOwnProperty.call(op, 'value')) return false;
  const adding = op.op === 'add';
  if (Array.isArray(parent)) {
    const i = arrayIndex(parent, lastKey, adding);
    if (!adding) set(parent, i, cloneJSON(op.value));
    else if (i === parent.length) writable(parent)[i] = cloneJSON(op.value);
    else return false;
    return true;
  }
  if (!isContainer(parent)) throw new PatchError(`no container at "${op.path}"`);
  if (!adding && !Object.prototype.hasOwnProperty.call(parent, lastKey)) throw new PatchError(`no value at "${op.path}"`);
  set(parent, lastKey, cloneJSON(op.value));
  return true;
}

// add (insert into an array, set a key) or replace at parts of doc.
function put(raw, base, doc, parts, value, adding, path) {
  if (parts.length === 0) {
    // The whole document: reconciled into the one in the store.
    if (base.length === 0) {
      if (!isContainer(value) || Array.isArray(value) !== Array.isArray(raw)) throw new PatchError('the root of a store stays an object');
      reconcile(value)(raw);
    } else set(walk(raw, base, base.length - 1, ''), base[base.length - 1], value);
    return;
  }
  const parent = walk(doc, parts, parts.length - 1, path);
  const key = parts[parts.length - 1];
  if (Array.isArray(parent)) {
    const i = arrayIndex(parent, key, adding);
    if (!adding) set(parent, i, value);
    else if (i === parent.length) writable(parent)[i] = value;
    else splice(raw, base, doc, parts, parent, i, 0, value);
    return;
  }
  if (!isContainer(parent)) throw new PatchError(`no container at "${path}"`);
  if (!adding && !Object.prototype.hasOwnProperty.call(parent, key)) throw new PatchError(`no value at "${path}"`);
  set(parent, key, value);
}

// An item inserted into or removed from the middle of an array: the array
// is replaced by its spliced copy in one write (one signal: its key's; the
// items keep their identity, so a <For> over it moves nothing else), which
// costs far less than shifting every later item by one store write each.
// A store write unwraps its value, a deep walk of raw objects but one step
// for a store proxy: the copy holds the items' proxies where they have one
// (every item something reads).  The root array of a store cannot be
// replaced: it is shifted.
function splice(raw, base, doc, parts, arr, i, del, ...add) {
  const next = arr.slice();
  next.splice(i, del, ...add);
  const proxied = (v) => (isContainer(v) && v[$PROXY]) || v;
  if (parts.length === 1 && base.length === 0) {
    const w = writable(arr);
    for (let j = 0; j < next.length; j++) if (arr[j] !== next[j]) w[j] = proxied(next[j]);
    w.length = next.length;
    return;
  }
  for (let j = 0; j < next.length; j++) next[j] = proxied(next[j]);
  if (parts.length === 1) writable(walk(raw, base, base.length - 1, ''))[base[base.length - 1]] = next;
  else writable(walk(doc, parts, parts.length - 2, ''))[parts[parts.length - 2]] = next;
}

function remove(raw, base, doc, parts, path) {
  if (parts.length === 0) throw new PatchError('cannot remove the whole document');
  const parent = walk(doc, parts, parts.length - 1, path);
  const key = parts[parts.length - 1];
  if (Array.isArray(parent)) {
    splice(raw, base, doc, parts, parent, arrayIndex(parent, key, false), 1);
    return;
  }
  if (!isContainer(parent) || !Object.prototype.hasOwnProperty.call(parent, key)) throw new PatchError(`no value at "${path}"`);
  delete writable(parent)[key];
}

/**
 * A Solid store of a channel's state: [state, { push, status, pending,
 * version, channel, close }].  options: those of createStateChannel
 * (baseUrl, topic | topics, initial, ...) or { channel } (a channel made
 * elsewhere, left open).  One topic: the store is that topic's state ({}
 * until its first snapshot); several: an object keyed by topic.  Inside a
 * component (a Solid owner) the channel closes with it.
 */
export function createStateChannelStore(options = {}) {
  const own = !options.channel;
  const channel = options.channel || createStateChannel({ lazyState: true, ...options, autoConnect: false });
  const topics = channel.topics;
  const single = !own ? topics.length === 1 && channel.getState() === channel.getState(topics[0]) : !options.topics;
  const base = (topic) => (single ? EMPTY : [topic]);
  const stateOf = (topic) => channel.getState(topic);

  // What the store shows of each topic: the confirmed state of version
  // at.get(topic) (followed through its patches), or, when the channel
  // shows predictions, the state view.get(topic) (reconciled).
  const at = new Map();
  const view = new Map();
  function shown(topic, s) {
    if (channel.isOptimistic(topic)) {
      at.delete(topic);
      view.set(topic, s);
    } else {
      view.delete(topic);
      at.set(topic, channel.getVersion(topic));
    }
  }

  let root;
  if (single) root = cloneJSON(stateOf(topics[0])) ?? {};
  else {
    root = {};
    for (const t of topics) root[t] = cloneJSON(stateOf(t));
  }
  if (!isContainer(root)) throw new TypeError('createStateChannelStore: the state of a topic must be an object or an array');
  for (const t of topics) shown(t, stateOf(t));
  const [state, setStore] = createStore(root);
  const [versions, setVersions] = createStore(Object.fromEntries(topics.map((t) => [t, channel.getVersion(t)])));
  const [status, setStatus] = createSignal(channel.status);
  const pendingOf = () => channel.pendingEvents ?? EMPTY;
  const [pending, setPending] = createSignal(pendingOf(), { equals: false });
  let pendingSeen = pendingOf();

  // The store becomes s (the channel's state of topic, or with its version
  // the confirmed one): reconciled, keyed by "id".
  function reconcileTopic(topic, s = stateOf(topic), version) {
    const copy = cloneJSON(s);
    if (single) {
      if (isContainer(copy)) setStore(reconcile(copy));
    } else setStore(topic, reconcile(copy));
    if (version === undefined) shown(topic, s);
    else {
      view.delete(topic);
      at.set(topic, version);
    }
    setVersions(topic, channel.getVersion(topic));
  }

  const offPatch = channel.onPatch(({ topic, version, patch }) => {
    // Applied when the store shows the version before; otherwise (it shows
    // predictions, or it missed a change) the notification that follows
    // reconciles.
    if (at.get(topic) !== version - 1) return;
    try {
      batch(() => {
        applyPatchToStore(state, patch, base(topic));
        setVersions(topic, version);
      });
      at.set(topic, version);
    } catch {
      batch(() => reconcileTopic(topic));
    }
  });
  const offState = channel.onState(({ topic, version, state: s }) => {
    if (topics.includes(topic)) batch(() => reconcileTopic(topic, s, version));
  });
  const offNotify = channel.subscribe(() => {
    batch(() => {
      for (const t of topics) {
        if (channel.isOptimistic(t) ? stateOf(t) !== view.get(t) : at.get(t) !== channel.getVersion(t)) reconcileTopic(t);
      }
      setStatus(channel.status);
      const p = pendingOf();
      if (p !== pendingSeen) {
        pendingSeen = p;
        setPending(p);
      }
    });
  });

  function close() {
    offPatch();
    offState();
    offNotify();
    if (own) channel.close();
  }
  if (getOwner()) onCleanup(close);
  if (own && options.autoConnect !== false && (options.EventSource || typeof globalThis.EventSource === 'function')) channel.connect();

  return [
    state,
    {
      push: (event, payload, opts) => channel.push(event, payload, opts),
      status,
      pending,
      version: (topic = topics[0]) => versions[topic],
      channel,
      close,
    },
  ];
}

export default createStateChannelStore;
