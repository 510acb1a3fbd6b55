// The shopping list on <state-channel>, no framework: the element holds the
// stream and the state; "change" events render the list, bind() keeps two
// texts equal to selectors, "status" events show the connection.
import { bind } from '/client/src/element.js'; // defines <state-channel> on import

const params = new URLSearchParams(location.search);
const listName = (params.get('list') || 'groceries').replace(/[^A-Za-z0-9:_.@-]/g, '') || 'groceries';
const $ = (id) => document.getElementById(id);
const list = $('list');
list.setAttribute('topic', `list:${listName}`); // connected already: this opens the stream
window.statechannel = list.channel; // for the browser tests and the console
$('list-name').textContent = listName;

bind(list, $('count'), 'textContent', (s) => `${s.items.length} items`);
bind(list, $('version'), 'textContent', () => `version ${list.version}`);

list.addEventListener('status', (e) => {
  $('status').dataset.status = e.detail.status;
  $('status').textContent = e.detail.status;
  $('pending').hidden = e.detail.pending === 0;
  $('pending').textContent = `sending ${e.detail.pending}…`;
});

async function send(event, payload) {
  const el = $('error');
  try {
    const answer = await list.push(event, payload);
    el.hidden = true;
    return answer;
  } catch (err) {
    el.hidden = false;
    el.dataset.code = err.code || '';
    el.textContent = err.message;
    return null;
  }
}

// Rows by item id, filled again only when the item's identity changed
// (the channel's structural sharing keeps unchanged items as they were).
const rows = new Map(); // id → { li, item }

function makeRow(id) {
  const li = $('row').content.firstElementChild.cloneNode(true);
  li.dataset.id = id;
  li.querySelector('.toggle').addEventListener('change', () => send('toggle', { id }));
  li.querySelector('.remove').addEventListener('click', () => send('remove', { id }));
  const rename = () => {
    const name = li.querySelector('.name');
    const input = document.createElement('input');
    input.className = 'rename-input';
    input.value = name.textContent;
    let done = false;
    const finish = (save) => {
      if (done) return;
      done = true;
      input.replaceWith(name);
      if (save && input.value !== name.textContent) send('rename', { id, name: input.value });
    };
    input.addEventListener('keydown', (e) => (e.key === 'Enter' ? finish(true) : e.key === 'Escape' && finish(false)));
    input.addEventListener('blur', () => finish(true));
    name.replaceWith(input);
    input.focus();
  };
  li.querySelector('.rename').addEventListener('click', rename);
  li.querySelector('.name').addEventListener('dblclick', rename);
  return li;
}

list.addEventListener('change', (e) => {
  const items = e.detail.state?.items || [];
  const ul = $('items');
  const seen = new Set();
  let prev = null;
  for (const item of items) {
    seen.add(item.id);
    let row = rows.get(item.id);
    if (!row) rows.set(item.id, (row = { li: makeRow(item.id), item: null }));
    if (row.item !== item) {
      row.item = item;
      row.li.classList.toggle('bought', !!item.bought);
      row.li.querySelector('.toggle').checked = !!item.bought;
      row.li.querySelector('.name').textContent = item.name;
      row.li.querySelector('.qty').textContent = `× ${item.quantity}`;
    }
    const want = prev ? prev.nextSibling : ul.firstChild;
    if (want !== row.li) ul.insertBefore(row.li, want);
    prev = row.li;
  }
  for (const [id, row] of rows) if (!seen.has(id)) (row.li.remove(), rows.delete(id));
});

$('add-form').addEventListener('submit', async (e) => {
  e.preventDefault();
  const name = $('add-name').value;
  const qty = $('add-quantity').value;
  const q = Number(qty);
  $('add-name').value = '';
  $('add-quantity').value = '1';
  if (!(await send('add', qty === '' ? { name } : { name, quantity: Number.isInteger(q) ? q : qty })) && $('add-name').value === '') {
    $('add-name').value = name;
    $('add-quantity').value = qty;
  }
});
$('clear-bought').addEventListener('click', () => send('clear_bought', {}));
