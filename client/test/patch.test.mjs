import { test } from 'node:test';
import assert from 'node:assert/strict';
import { applyPatch, parsePointer, PatchError } from '../src/patch.js';

const deepFreeze = (v) => {
  if (v && typeof v === 'object') {
    Object.freeze(v);
    Object.values(v).forEach(deepFreeze);
  }
  return v;
};

function doc() {
  return deepFreeze({
    items: [
      { id: 'i1', name: 'Milk', quantity: 2, bought: false },
      { id: 'i2', name: 'Eggs', quantity: 12, bought: true },
      { id: 'i3', name: 'Tea', quantity: 1, bought: false },
    ],
    meta: { owner: { name: 'ann' }, tags: ['a', 'b'] },
    next_id: 4,
  });
}

test('JSON Pointer: escapes ~1 and ~0, root, errors', () => {
  assert.deepEqual(parsePointer(''), []);
  assert.deepEqual(parsePointer('/'), ['']);
  assert.deepEqual(parsePointer('/a~1b/c~0d/~01'), ['a/b', 'c~d', '~1']);
  assert.throws(() => parsePointer('a'), PatchError);
  assert.throws(() => parsePointer('/a~2'), PatchError);
  assert.throws(() => parsePointer('/a~'), PatchError);
  const d = applyPatch({ 'a/b': 1, 'c~d': 2 }, [
    { op: 'replace', path: '/a~1b', value: 10 },
    { op: 'replace', path: '/c~0d', value: 20 },
  ]);
  assert.deepEqual(d, { 'a/b': 10, 'c~d': 20 });
});

test('add: object member, array insert, append with -, root; sharing kept', () => {
  const d0 = doc();
  const d1 = applyPatch(d0, [{ op: 'add', path: '/items/-', value: { id: 'i4', name: 'Jam' } }]);
  assert.equal(d1.items.length, 4);
  assert.equal(d1.items[3].name, 'Jam');
  assert.notEqual(d1, d0);
  assert.notEqual(d1.items, d0.items);
  for (let i = 0; i < 3; i++) assert.equal(d1.items[i], d0.items[i], 'untouched items keep identity');
  assert.equal(d1.meta, d0.meta, 'untouched subtree keeps identity');
  assert.equal(d0.items.length, 3, 'the input is not changed');

  const d2 = applyPatch(d0, [{ op: 'add', path: '/items/0', value: 'first' }]);
  assert.deepEqual(d2.items.map((x) => x.id ?? x), ['first', 'i1', 'i2', 'i3']);
  assert.equal(d2.items[1], d0.items[0]);

  const d3 = applyPatch(d0, [{ op: 'add', path: '/meta/owner/email', value: 'a@b' }]);
  assert.deepEqual(d3.meta.owner, { name: 'ann', email: 'a@b' });
  assert.equal(d3.meta.tags, d0.meta.tags);
  assert.equal(d3.items, d0.items);

  assert.deepEqual(applyPatch(d0, [{ op: 'add', path: '', value: [1] }]), [1]);
  assert.deepEqual(applyPatch(d0, [{ op: 'add', path: '/items/3', value: 'end' }]).items[3], 'end');
  assert.throws(() => applyPatch(d0, [{ op: 'add', path: '/items/4', value: 1 }]), PatchError);
  assert.throws(() => applyPatch(d0, [{ op: 'add', path: '/items/01', value: 1 }]), PatchError);
  assert.throws(() => applyPatch(d0, [{ op: 'add', path: '/nope/x', value: 1 }]), PatchError);
  assert.throws(() => applyPatch(d0, [{ op: 'add', path: '/x' }]), PatchError);
});

test('remove: array element and object member; sharing kept', () => {
  const d0 = doc();
  const d1 = applyPatch(d0, [{ op: 'remove', path: '/items/1' }]);
  assert.deepEqual(d1.items.map((x) => x.id), ['i1', 'i3']);
  assert.equal(d1.items[0], d0.items[0]);
  assert.equal(d1.items[1], d0.items[2]);
  assert.equal(d1.meta, d0.meta);
  const d2 = applyPatch(d0, [{ op: 'remove', path: '/meta/owner' }]);
  assert.deepEqual(d2.meta, { tags: ['a', 'b'] });
  assert.equal(d2.meta.tags, d0.meta.tags);
  assert.throws(() => applyPatch(d0, [{ op: 'remove', path: '/items/3' }]), PatchError);
  assert.throws(() => applyPatch(d0, [{ op: 'remove', path: '/absent' }]), PatchError);
  assert.throws(() => applyPatch(d0, [{ op: 'remove', path: '' }]), PatchError);
});

test('replace: leaf, subtree, root; only the path is copied', () => {
  const d0 = doc();
  const d1 = applyPatch(d0, [{ op: 'replace', path: '/items/1/bought', value: false }]);
  assert.equal(d1.items[1].bought, false);
  assert.notEqual(d1.items[1], d0.items[1]);
  assert.equal(d1.items[0], d0.items[0]);
  assert.equal(d1.items[2], d0.items[2]);
  assert.equal(d1.meta, d0.meta);
  assert.equal(d0.items[1].bought, true);
  const d2 = applyPatch(d0, [{ op: 'replace', path: '/meta', value: null }]);
  assert.equal(d2.meta, null);
  assert.equal(d2.items, d0.items);
  assert.deepEqual(applyPatch(d0, [{ op: 'replace', path: '', value: { x: 1 } }]), { x: 1 });
  assert.throws(() => applyPatch(d0, [{ op: 'replace', path: '/absent', value: 1 }]), PatchError);
  assert.throws(() => applyPatch(d0, [{ op: 'replace', path: '/items/-', value: 1 }]), PatchError);
});

test('move: within an array and between objects', () => {
  const d0 = doc();
  const d1 = applyPatch(d0, [{ op: 'move', from: '/items/0', path: '/items/2' }]);
  assert.deepEqual(d1.items.map((x) => x.id), ['i2', 'i3', 'i1']);
  assert.equal(d1.items[2], d0.items[0], 'the moved value keeps identity');
  const d2 = applyPatch(d0, [{ op: 'move', from: '/meta/owner', path: '/owner' }]);
  assert.equal(d2.owner, d0.meta.owner);
  assert.deepEqual(Object.keys(d2.meta), ['tags']);
  assert.equal(applyPatch(d0, [{ op: 'move', from: '/meta', path: '/meta' }]).meta, d0.meta);
  assert.throws(() => applyPatch(d0, [{ op: 'move', from: '/meta', path: '/meta/x' }]), PatchError);
  assert.throws(() => applyPatch(d0, [{ op: 'move', from: '/absent', path: '/x' }]), PatchError);
});

test('copy: shares the value, and later ops do not change both places', () => {
  const d0 = doc();
  const d1 = applyPatch(d0, [
    { op: 'replace', path: '/meta/owner/name', value: 'bob' }, // meta/owner now copied
    { op: 'copy', from: '/meta/owner', path: '/owner2' },
    { op: 'replace', path: '/owner2/name', value: 'cid' },
  ]);
  assert.equal(d1.meta.owner.name, 'bob');
  assert.equal(d1.owner2.name, 'cid');
  assert.equal(d0.meta.owner.name, 'ann');
  const d2 = applyPatch(d0, [{ op: 'copy', from: '/items/0', path: '/items/-' }]);
  assert.equal(d2.items[3], d0.items[0]);
  assert.throws(() => applyPatch(d0, [{ op: 'copy', from: '/absent', path: '/x' }]), PatchError);
});

test('test: passes on equal values, fails the whole patch otherwise', () => {
  const d0 = doc();
  const d1 = applyPatch(d0, [
    { op: 'test', path: '/items/0', value: { bought: false, quantity: 2, name: 'Milk', id: 'i1' } },
    { op: 'test', path: '/meta/tags', value: ['a', 'b'] },
    { op: 'replace', path: '/next_id', value: 5 },
  ]);
  assert.equal(d1.next_id, 5);
  assert.throws(
    () =>
      applyPatch(d0, [
        { op: 'replace', path: '/next_id', value: 5 },
        { op: 'test', path: '/next_id', value: 4 },
      ]),
    (e) => e instanceof PatchError && e.index === 1,
  );
  assert.equal(d0.next_id, 4, 'a failed patch leaves the input alone');
  assert.throws(() => applyPatch(d0, [{ op: 'test', path: '/meta/tags', value: ['b', 'a'] }]), PatchError);
  assert.throws(() => applyPatch(d0, [{ op: 'frob', path: '/x' }]), PatchError);
});

test('many ops under one array copy it once and keep the other rows', () => {
  const rows = Array.from({ length: 1000 }, (_, i) => ({ id: i + 1, label: `row ${i + 1}` }));
  const d0 = deepFreeze({ rows, selected: null });
  const ops = [];
  for (let i = 0; i < 1000; i += 10) ops.push({ op: 'replace', path: `/rows/${i}/label`, value: `row ${i + 1} !!!` });
  const d1 = applyPatch(d0, ops);
  for (let i = 0; i < 1000; i++) {
    if (i % 10 === 0) {
      assert.equal(d1.rows[i].label, `row ${i + 1} !!!`);
      assert.notEqual(d1.rows[i], d0.rows[i]);
    } else assert.equal(d1.rows[i], d0.rows[i]);
  }
  assert.equal(applyPatch(d0, []), d0, 'an empty patch returns the same document');
  // swap rows 1 and 998 the way a server would send it
  const d2 = applyPatch(d0, [
    { op: 'replace', path: '/rows/1', value: d0.rows[998] },
    { op: 'replace', path: '/rows/998', value: d0.rows[1] },
  ]);
  assert.equal(d2.rows[1], d0.rows[998]);
  assert.equal(d2.rows[998], d0.rows[1]);
  assert.equal(d2.rows[2], d0.rows[2]);
});
