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

import { $PROXY, batch, createComputed, createSignal, getOwner, onCleanup } from 'solid-js';
import { createStore, produce, reconcile, unwrap } from 'solid-js/store';
import { createStateChannel } from './index.js';
import { parsePointer, jsonEqual, PatchError } from './patch.js';

export { createStateChannel };

const EMPTY = Object.freeze([]);
const hasOwn = Object.hasOwn;

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
  for (const k in v) if (hasOwn(v, k)) o[k] = cloneJSON(v[k]);
  return o;
}

// The array index the characters start..end of pointer spell, read off
// the string (no slice, no regular expression); -1 when they are not one
// (empty, not all digits, a leading zero, too long).
function indexAt(pointer, start, end) {
  const n = end - start;
  if (n === 0 || n > 15) return -1;
  let i = pointer.charCodeAt(start) - 48;
  if (i < 0 || i > 9 || (i === 0 && n > 1)) return -1;
  for (let j = start + 1; j < end; j++) {
    const c = pointer.charCodeAt(j) - 48;
    if (c < 0 || c > 9) return -1;
    i = i * 10 + c;
  }
  return i;
}

function child(node, key, path) {
  if (Array.isArray(node)) {
    const i = indexAt(key, 0, key.length);
    if (i < 0 || i >= node.length) throw new PatchError(`no value at "${path}"`);
    return node[i];
  }
  if (!isContainer(node) || !hasOwn(node, key)) throw new PatchError(`no value at "${path}"`);
  return node[key];
}

function walk(node, parts, end, path) {
  for (let i = 0; i < end; i++) node = child(node, parts[i], path);
  return node;
}

function arrayIndex(arr, key, forAdd) {
  if (forAdd && key === '-') return arr.length;
  const i = indexAt(key, 0, key.length);
  if (i < 0 || i > arr.length || (!forAdd && i === arr.length)) throw new PatchError(`"${key}" is not an index of this array`);
  return i;
}

// The writable view of a store node: produce's proxy, whose writes are
// Solid's own store writes (the signal of the key fires, and the array's
// length and the node's own signal when they change).  Reached directly
// from the raw node the op names (no path walk, no path arrays), and kept
// per node: a write is one look-up, then Solid's.
let grabbed = null;
const grab = produce((w) => {
  grabbed = w;
});
const writers = new WeakMap();
function writable(raw) {
  let w = writers.get(raw);
  if (w === undefined) {
    grab(raw);
    w = grabbed;
    grabbed = null;
    writers.set(raw, w);
  }
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
    const doc = base.length === 0 ? raw : walk(raw, base, base.length, '');
    for (let n = 0; n < patch.length; n++) {
      const op = patch[n];
      const kind = op.op;
      if (kind === 'replace' ? !quickPut(doc, op, false) : kind !== 'add' || !quickPut(doc, op, true)) general(raw, base, doc, op);
    }
  });
}

// Any op, its paths parsed into arrays.
function general(raw, base, doc, op) {
  const parts = parsePointer(op.path);
  switch (op.op) {
    case 'add':
    case 'replace':
      if (!('value' in op)) throw new PatchError(`"${op.op}" needs a value`);
      put(raw, base, doc, parts, cloneJSON(op.value), op.op === 'add', op.path);
      break;
    case 'remove':
      remove(raw, base, doc, parts, op.path);
      break;
    case 'move': {
      if (op.from === op.path) break;
      const from = parsePointer(op.from);
      const v = walk(doc, from, from.length, op.from);
      remove(raw, base, doc, from, op.from);
      try {
        put(raw, base, doc, parts, v, true, op.path);
      } catch (e) {
        put(raw, base, doc, from, v, true, op.from); // back where it was: an op fails whole
        throw e;
      }
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

// Sets key of a node to value: an object or array replacing one of the
// same kind (and the same "id", as reconcile keys them) is reconciled into
// it, so its unchanged parts keep their identity and signals; anything
// else is one write.
function set(node, key, value) {
  if (typeof value === 'object' && value !== null) {
    const prev = node[key];
    if (isContainer(prev) && Array.isArray(prev) === Array.isArray(value) && prev.id === value.id) {
      reconcile(value)(prev);
      return;
    }
  }
  writable(node)[key] = value;
}

// The common add and replace, each op one call: a key of an object, an
// item of an array replaced or appended, walked along the path string (no
// arrays, no slices but the object keys).  false: not one of those (the
// root, an escape, an insert in the middle, no value): general() does it.
function quickPut(doc, op, adding) {
  const p = op.path;
  if (typeof p !== 'string' || p.length < 2 || p.charCodeAt(0) !== 47 || p.indexOf('~') !== -1 || !('value' in op)) return false;
  let node = doc;
  let start = 1;
  for (let end = p.indexOf('/', 1); end !== -1; start = end + 1, end = p.indexOf('/', start)) {
    if (Array.isArray(node)) {
      const i = indexAt(p, start, end);
      if (i < 0 || i >= node.length) throw new PatchError(`no value at "${p}"`);
      node = node[i];
    } else {
      const k = p.slice(start, end);
      if (!isContainer(node) || !hasOwn(node, k)) throw new PatchError(`no value at "${p}"`);
      node = node[k];
    }
  }
  const v = op.value;
  if (Array.isArray(node)) {
    const end = p.length;
    if (adding && end - start === 1 && p.charCodeAt(start) === 45) {
      writable(node)[node.length] = cloneJSON(v); // "-": appended
      return true;
    }
    const i = indexAt(p, start, end);
    if (i < 0 || i > node.length || (!adding && i === node.length)) throw new PatchError(`"${p.slice(start)}" is not an index of this array`);
    if (!adding) set(node, i, cloneJSON(v));
    else if (i === node.length) writable(node)[i] = cloneJSON(v);
    else return false;
    return true;
  }
  if (!isContainer(node)) throw new PatchError(`no container at "${p}"`);
  const k = p.slice(start);
  if (!adding && !hasOwn(node, k)) throw new PatchError(`no value at "${p}"`);
  set(node, k, typeof v === 'object' && v !== null ? cloneJSON(v) : v);
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
  if (!adding && !hasOwn(parent, key)) throw new PatchError(`no value at "${path}"`);
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
  if (!isContainer(parent) || !hasOwn(parent, key)) throw new PatchError(`no value at "${path}"`);
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
  // The version shown of each topic: a signal per topic (a frame writes
  // one, with no store path to walk).
  const versions = new Map(topics.map((t) => [t, createSignal(channel.getVersion(t))]));
  const setVersion = (topic, v) => versions.get(topic)[1](v);
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
    setVersion(topic, channel.getVersion(topic));
  }

  const offPatch = channel.onPatch(({ topic, version, patch }) => {
    // Applied when the store shows the version before; otherwise (it shows
    // predictions, or it missed a change) the notification that follows
    // reconciles.
    if (at.get(topic) !== version - 1) return;
    try {
      batch(() => {
        applyPatchToStore(state, patch, base(topic));
        setVersion(topic, version);
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
      version: (topic = topics[0]) => versions.get(topic)?.[0](),
      channel,
      close,
    },
  ];
}

/**
 * The selection of a keyed list (one selected key, e.g. state.selected),
 * O(1) a change: each row has a signal of its own ("am I selected"),
 * registered by its key; when the selected key changes, one computation
 * sets the row of the old key to false and the row of the new key to true.
 * Solid's createSelector gives the same updates (only those two rows'
 * effects run) but finds them by walking every key subscribed to it, on
 * every change: 1,000 comparisons a change in a 1,000-row list.
 * Returns rowSelected(key): called where a row is made (inside <For>),
 * that row's accessor, unregistered when the row is disposed.
 */
export function createKeyedSelection(selected) {
  const rows = new Map(); // key → the setter of that row's signal
  let current;
  createComputed(() => {
    const key = selected();
    if (key === current) return;
    rows.get(current)?.(false);
    current = key;
    rows.get(key)?.(true);
  });
  return (key) => {
    const [is, set] = createSignal(key === current);
    rows.set(key, set);
    onCleanup(() => rows.get(key) === set && rows.delete(key));
    return is;
  };
}

export default createStateChannelStore;
