// RFC 6902 JSON Patch, applied immutably with structural sharing.
//
// applyPatch(doc, ops) returns a new document and never changes `doc`:
// every object or array on the path of an operation is copied once (path
// copying); everything else keeps its identity, so React.memo and selectors
// skip the parts that did not change.  Within one patch a container copied
// by an earlier operation is changed in place by the later ones (it is not
// shared with anyone yet), so a patch of 100 ops under /rows copies the rows
// array once, not 100 times.
//
// A failing operation (a missing path, a failed "test", a bad index) throws
// a PatchError and the whole patch is discarded: the caller keeps `doc`.

export class PatchError extends Error {
  constructor(message, index, op) {
    super(index === undefined ? message : `patch op ${index}: ${message}`);
    this.name = 'PatchError';
    this.index = index;
    this.op = op;
  }
}

/** RFC 6901: "/a~1b/c~0d" → ["a/b", "c~d"]; "" → []. */
export function parsePointer(pointer) {
  if (typeof pointer !== 'string') throw new PatchError('a path must be a string');
  if (pointer === '') return [];
  if (pointer[0] !== '/') throw new PatchError(`bad JSON Pointer "${pointer}"`);
  const parts = pointer.slice(1).split('/');
  for (let i = 0; i < parts.length; i++) {
    const p = parts[i];
    if (p.indexOf('~') !== -1) {
      if (/~[^01]|~$/.test(p)) throw new PatchError(`bad escape in JSON Pointer "${pointer}"`);
      parts[i] = p.replace(/~1/g, '/').replace(/~0/g, '~');
    }
  }
  return parts;
}

const INDEX = /^(?:0|[1-9][0-9]*)$/;

function isContainer(v) {
  return v !== null && typeof v === 'object';
}

function arrayIndex(arr, key, forAdd) {
  if (forAdd && key === '-') return arr.length;
  if (!INDEX.test(key)) throw new PatchError(`"${key}" is not an array index`);
  const i = Number(key);
  if (i > arr.length || (!forAdd && i === arr.length))
    throw new PatchError(`index ${i} is out of range`);
  return i;
}

function has(obj, key) {
  return Object.prototype.hasOwnProperty.call(obj, key);
}

/** Deep equality of two JSON values (for "test"). */
export function jsonEqual(a, b) {
  if (a === b) return true;
  if (!isContainer(a) || !isContainer(b)) return false;
  if (Array.isArray(a)) {
    if (!Array.isArray(b) || a.length !== b.length) return false;
    for (let i = 0; i < a.length; i++) if (!jsonEqual(a[i], b[i])) return false;
    return true;
  }
  if (Array.isArray(b)) return false;
  const ka = Object.keys(a);
  if (ka.length !== Object.keys(b).length) return false;
  for (const k of ka) if (!has(b, k) || !jsonEqual(a[k], b[k])) return false;
  return true;
}

/** The value at a parsed path, or throws. */
function get(doc, parts) {
  let v = doc;
  for (const key of parts) {
    if (Array.isArray(v)) v = v[arrayIndex(v, key, false)];
    else if (isContainer(v) && has(v, key)) v = v[key];
    else throw new PatchError(`no value at "/${parts.join('/')}"`);
  }
  return v;
}

// One patch application: `owned` holds the containers this application
// created, which it may change in place.
class Writer {
  constructor(doc) {
    this.root = doc;
    this.owned = new WeakSet();
  }

  own(v) {
    if (this.owned.has(v)) return v;
    const c = Array.isArray(v) ? v.slice() : Object.assign({}, v);
    this.owned.add(c);
    return c;
  }

  // The (owned) parent container of parts, copying along the way.
  parent(parts) {
    if (!isContainer(this.root)) throw new PatchError('the document is not a container');
    this.root = this.own(this.root);
    let node = this.root;
    for (let i = 0; i < parts.length - 1; i++) {
      const key = parts[i];
      let k;
      if (Array.isArray(node)) k = arrayIndex(node, key, false);
      else if (has(node, key)) k = key;
      else throw new PatchError(`no value at "/${parts.slice(0, i + 1).join('/')}"`);
      const child = node[k];
      if (!isContainer(child))
        throw new PatchError(`"/${parts.slice(0, i + 1).join('/')}" is not a container`);
      const c = this.own(child);
      if (c !== child) node[k] = c;
      node = c;
    }
    return node;
  }

  add(parts, value) {
    if (parts.length === 0) {
      this.root = value;
      return;
    }
    const p = this.parent(parts);
    const key = parts[parts.length - 1];
    if (Array.isArray(p)) {
      const i = arrayIndex(p, key, true);
      if (i === p.length) p.push(value);
      else p.splice(i, 0, value);
    } else p[key] = value;
  }

  remove(parts) {
    if (parts.length === 0) throw new PatchError('cannot remove the whole document');
    const p = this.parent(parts);
    const key = parts[parts.length - 1];
    if (Array.isArray(p)) {
      const i = arrayIndex(p, key, false);
      const v = p[i];
      p.splice(i, 1);
      return v;
    }
    if (!has(p, key)) throw new PatchError(`no value at "/${parts.join('/')}"`);
    const v = p[key];
    delete p[key];
    return v;
  }

  replace(parts, value) {
    if (parts.length === 0) {
      this.root = value;
      return;
    }
    const p = this.parent(parts);
    const key = parts[parts.length - 1];
    if (Array.isArray(p)) p[arrayIndex(p, key, false)] = value;
    else if (has(p, key)) p[key] = value;
    else throw new PatchError(`no value at "/${parts.join('/')}"`);
  }
}

/**
 * Applies an RFC 6902 patch to doc and returns the new document (doc itself
 * is left untouched; unchanged subtrees are shared with it).
 */
export function applyPatch(doc, ops) {
  if (!Array.isArray(ops)) throw new PatchError('a patch must be an array');
  if (ops.length === 0) return doc;
  const w = new Writer(doc);
  for (let i = 0; i < ops.length; i++) {
    const op = ops[i];
    try {
      if (!isContainer(op)) throw new PatchError('an operation must be an object');
      const parts = parsePointer(op.path);
      switch (op.op) {
        case 'add':
          if (!has(op, 'value')) throw new PatchError('"add" needs a value');
          w.add(parts, op.value);
          break;
        case 'remove':
          w.remove(parts);
          break;
        case 'replace':
          if (!has(op, 'value')) throw new PatchError('"replace" needs a value');
          w.replace(parts, op.value);
          break;
        case 'move': {
          const from = parsePointer(op.from);
          if (op.from === op.path) {
            get(w.root, from);
            break;
          }
          if (op.path.startsWith(op.from + '/'))
            throw new PatchError('cannot move a value into itself');
          w.add(parts, w.remove(from));
          break;
        }
        case 'copy': {
          const v = get(w.root, parsePointer(op.from));
          // The copy now shares v (and v's children) between two places:
          // forget what this application owns so that neither place is
          // changed in place through the other.
          w.owned = new WeakSet();
          w.add(parts, v);
          break;
        }
        case 'test':
          if (!jsonEqual(get(w.root, parts), op.value)) throw new PatchError(`test failed at "${op.path}"`);
          break;
        default:
          throw new PatchError(`unknown op "${op.op}"`);
      }
    } catch (e) {
      if (e instanceof PatchError && e.index === undefined) throw new PatchError(e.message, i, op);
      throw e;
    }
  }
  return w.root;
}
