// The shopping list's optimistic updates: for each event, what the server
// (examples/shopping/app.c) is expected to make of the list, computed in
// the browser so the page changes on the click.  The server's result
// always replaces the prediction, and an event it refuses (422: an empty
// name, a quantity out of range, an item someone else removed) rolls back.
//
// Rules of a mutator: never change the state it is given (return a new
// one, sharing what did not change, or a JSON Patch); decide nothing the
// server decides from the clock or random numbers.  The new item's id is
// the server's own rule ("i" + next_id), so the row keeps its id when the
// server confirms it.  Names are trimmed as the server does; nothing else
// is checked here: the server's reason for a refusal is what the page
// shows.

const at = (s, id) => s.items.findIndex((it) => it.id === id);
const clean = (name) => (typeof name === 'string' ? name.trim() : '');

export const mutators = {
  add(s, p) {
    const q = p.quantity === undefined ? 1 : p.quantity;
    const item = { id: `i${s.next_id}`, name: clean(p.name), quantity: q, bought: false };
    return { ...s, items: [...s.items, item], next_id: s.next_id + 1 };
  },
  rename(s, p) {
    const i = at(s, p.id);
    return i < 0 ? undefined : [{ op: 'replace', path: `/items/${i}/name`, value: clean(p.name) }];
  },
  set_quantity(s, p) {
    const i = at(s, p.id);
    return i < 0 ? undefined : [{ op: 'replace', path: `/items/${i}/quantity`, value: p.quantity }];
  },
  toggle(s, p) {
    const i = at(s, p.id);
    return i < 0 ? undefined : [{ op: 'replace', path: `/items/${i}/bought`, value: !s.items[i].bought }];
  },
  remove(s, p) {
    const i = at(s, p.id);
    return i < 0 ? undefined : [{ op: 'remove', path: `/items/${i}` }];
  },
  clear_bought: (s) => ({ ...s, items: s.items.filter((it) => !it.bought) }),
};

export default mutators;
