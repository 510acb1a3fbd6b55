// The shopping list page: plain DOM + the StateChannel client module.
// The list comes from the URL (?list=groceries, the default): topic
// "list:NAME".  Every change is an event (add, rename, toggle, remove,
// clear_bought) sent with push(); the page never changes its own copy:
// what it shows is the server's state with the predictions of the events
// still on their way on top (./mutators.js), so a click shows at once; an
// event the server refuses rolls back and the page shows its reason.
import { createStateChannel, createSharedLink } from '/client/src/index.js';
import { mutators } from './mutators.js';

const params = new URLSearchParams(location.search);
const listName = (params.get('list') || 'groceries').replace(/[^A-Za-z0-9:_.@-]/g, '') || 'groceries';
const topic = `list:${listName}`;
const $ = (id) => document.getElementById(id);

$('list-name').textContent = listName;
document.title = `${listName} — shopping list`;

// The tabs of this browser share one stream (a SharedWorker); ?share=leader
// forces the fallback of browsers without one (a leader tab relays over a
// BroadcastChannel), ?share=off gives every tab a stream of its own.
const shareMode = params.get('share');
const share = shareMode === 'off' ? false : shareMode === 'leader' ? createSharedLink('', { mode: 'leader' }) : undefined;
const channel = createStateChannel({ baseUrl: '', topic, mutators, ...(share !== undefined ? { share } : {}) });
window.statechannel = channel; // for the browser tests and the console

// The newest failed event (its prediction is already gone) and why; it
// stays until the next event succeeds.
function showError(failed) {
  const el = $('error');
  if (!failed) {
    el.hidden = true;
    el.textContent = '';
    return;
  }
  const err = failed.error;
  el.hidden = false;
  el.dataset.code = err.code || '';
  el.dataset.event = failed.event;
  el.textContent = err.message || String(err);
}

async function send(event, payload) {
  const p = channel.push(event, payload);
  try {
    const answer = await p;
    channel.clearFailed();
    return answer;
  } catch {
    // e.g. 422 {"error":{"code":"bad_name","message":"the name is empty"}}:
    // listed as failed in channel.pendingEvents, shown by render()
    return null;
  }
}

// Rows by item id; an item object whose identity did not change (structural
// sharing) is not touched.
const rows = new Map(); // id → { li, item }
let editing = null; // the id being renamed

function makeRow(item) {
  const li = document.createElement('li');
  li.dataset.id = item.id;
  const box = document.createElement('input');
  box.type = 'checkbox';
  box.className = 'toggle';
  box.setAttribute('aria-label', 'bought');
  box.addEventListener('change', () => send('toggle', { id: item.id }));
  const name = document.createElement('span');
  name.className = 'name';
  name.title = 'double-click to rename';
  name.addEventListener('dblclick', () => startRename(item.id));
  const qty = document.createElement('span');
  qty.className = 'qty';
  const rename = document.createElement('button');
  rename.type = 'button';
  rename.className = 'rename';
  rename.textContent = 'Rename';
  rename.addEventListener('click', () => startRename(item.id));
  const remove = document.createElement('button');
  remove.type = 'button';
  remove.className = 'remove';
  remove.textContent = 'Remove';
  remove.addEventListener('click', () => send('remove', { id: item.id }));
  li.append(box, name, qty, rename, remove);
  return li;
}

function fillRow(li, item) {
  li.classList.toggle('bought', !!item.bought);
  li.querySelector('.toggle').checked = !!item.bought;
  li.querySelector('.name').textContent = item.name;
  li.querySelector('.qty').textContent = `× ${item.quantity}`;
}

function startRename(id) {
  const row = rows.get(id);
  if (!row || editing === id) return;
  editing = id;
  const name = row.li.querySelector('.name');
  const input = document.createElement('input');
  input.className = 'rename-input';
  input.value = row.item.name;
  input.setAttribute('aria-label', 'new name');
  let done = false;
  const finish = async (save) => {
    if (done) return;
    done = true;
    const value = input.value;
    editing = null;
    input.replaceWith(name);
    const cur = rows.get(id);
    if (save && cur && value !== cur.item.name) await send('rename', { id, name: value });
    render();
  };
  input.addEventListener('keydown', (e) => {
    if (e.key === 'Enter') finish(true);
    else if (e.key === 'Escape') finish(false);
  });
  input.addEventListener('blur', () => finish(true));
  name.replaceWith(input);
  input.focus();
  input.select();
}

function render() {
  const state = channel.getState();
  const items = (state && state.items) || [];
  // Items not (yet) the server's: shown as pending.
  const confirmed = channel.getConfirmedState();
  const known = new Map();
  if (confirmed && confirmed !== state) for (const it of confirmed.items) known.set(it.id, it);
  const ul = $('items');
  const seen = new Set();
  let prev = null;
  for (const item of items) {
    seen.add(item.id);
    let row = rows.get(item.id);
    if (!row) {
      row = { li: makeRow(item), item: null };
      rows.set(item.id, row);
    }
    if (row.item !== item) {
      row.item = item;
      if (editing !== item.id) fillRow(row.li, item);
    }
    row.li.classList.toggle('pending', confirmed !== state && known.get(item.id) !== item);
    const want = prev ? prev.nextSibling : ul.firstChild;
    if (want !== row.li) ul.insertBefore(row.li, want);
    prev = row.li;
  }
  for (const [id, row] of rows) {
    if (!seen.has(id)) {
      row.li.remove();
      rows.delete(id);
      if (editing === id) editing = null;
    }
  }
  $('empty').hidden = !state || items.length > 0;
  const st = $('status');
  st.dataset.status = channel.status;
  st.textContent = channel.status;
  const p = $('pending');
  p.hidden = channel.pending === 0;
  p.textContent = `sending ${channel.pending}…`;
  const events = channel.pendingEvents;
  let failed = null;
  for (const e of events) if (e.status === 'failed') failed = e;
  showError(failed);
  const v = channel.getVersion();
  $('version').textContent = v === undefined ? '' : `version ${v}`;
  document.body.dataset.version = v === undefined ? '' : String(v);
}

let scheduled = false;
channel.subscribe(() => {
  if (scheduled) return;
  scheduled = true;
  queueMicrotask(() => {
    scheduled = false;
    render();
  });
});
render();

$('add-form').addEventListener('submit', async (e) => {
  e.preventDefault();
  const nameEl = $('add-name');
  const qtyEl = $('add-quantity');
  const name = nameEl.value;
  const qty = qtyEl.value;
  const payload = { name };
  const q = Number(qty);
  if (qty !== '') payload.quantity = Number.isInteger(q) ? q : qty;
  // Clear the form at once (the next item can be typed while this one is
  // on its way); give the text back if the server refuses it.
  nameEl.value = '';
  qtyEl.value = '1';
  nameEl.focus();
  if (!(await send('add', payload)) && nameEl.value === '') {
    nameEl.value = name;
    qtyEl.value = qty;
  }
});

$('clear-bought').addEventListener('click', () => send('clear_bought', {}));
addEventListener('pagehide', () => channel.close());
// Back from the back/forward cache: resume from the last cursor.
addEventListener('pageshow', (e) => e.persisted && channel.connect());
