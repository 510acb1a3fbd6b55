// The shopping list in SolidJS over statechannel-client/solid: the store
// is the server's state, each patch becomes setStore path calls, so a
// toggled item re-renders that item's checkbox and class, nothing else.
// Same page as index.html (same ids and classes), other renderer.
import { createSignal, For, Show } from 'solid-js';
import { render } from 'solid-js/web';
import html from 'solid-js/html';
import { createStateChannelStore } from '/client/src/solid.js';

const params = new URLSearchParams(location.search);
const listName = (params.get('list') || 'groceries').replace(/[^A-Za-z0-9:_.@-]/g, '') || 'groceries';
document.title = `${listName} — shopping list (Solid)`;

function App() {
  const [state, { push, status, version, channel }] = createStateChannelStore({ baseUrl: '', topic: `list:${listName}` });
  window.statechannel = channel; // for the browser tests and the console
  const [error, setError] = createSignal(null);
  const [sending, setSending] = createSignal(0);
  const [editing, setEditing] = createSignal(null);

  async function send(event, payload) {
    setSending((n) => n + 1);
    try {
      const answer = await push(event, payload);
      setError(null);
      return answer;
    } catch (err) {
      setError(err); // e.g. 422 {"error":{"code":"bad_name","message":"the name is empty"}}
      return null;
    } finally {
      setSending((n) => n - 1);
    }
  }

  async function add(e) {
    e.preventDefault();
    const form = e.currentTarget;
    const name = form.elements.name.value;
    const qty = form.elements.quantity.value;
    const q = Number(qty);
    const payload = qty === '' ? { name } : { name, quantity: Number.isInteger(q) ? q : qty };
    form.elements.name.value = '';
    form.elements.quantity.value = '1';
    form.elements.name.focus();
    if (!(await send('add', payload)) && form.elements.name.value === '') {
      form.elements.name.value = name;
      form.elements.quantity.value = qty;
    }
  }

  function renameInput(item) {
    let done = false;
    const finish = async (input, save) => {
      if (done) return;
      done = true;
      setEditing(null);
      if (save && input.value !== item.name) await send('rename', { id: item.id, name: input.value });
    };
    const input = html`<input class="rename-input" aria-label="new name" value=${item.name}
      onKeyDown=${(e) => (e.key === 'Enter' ? finish(e.currentTarget, true) : e.key === 'Escape' && finish(e.currentTarget, false))}
      onBlur=${(e) => finish(e.currentTarget, true)} />`;
    queueMicrotask(() => {
      input.focus();
      input.select();
    });
    return input;
  }

  const Item = (item) => html`<li data-id=${() => item.id} class=${() => (item.bought ? 'bought' : '')}>
      <input type="checkbox" class="toggle" aria-label="bought" checked=${() => !!item.bought} onChange=${() => send('toggle', { id: item.id })} />
      <${Show} when=${() => editing() === item.id} fallback=${html`<span class="name" title="double-click to rename" onDblClick=${() => setEditing(item.id)}>${() => item.name}</span>`}>
        ${() => renameInput(item)}
      <//>
      <span class="qty">× ${() => item.quantity}</span>
      <button type="button" class="rename" onClick=${() => setEditing(item.id)}>Rename</button>
      <button type="button" class="remove" onClick=${() => send('remove', { id: item.id })}>Remove</button>
    </li>`;

  return html`<main>
    <header>
      <h1>Shopping list <span id="list-name">${listName}</span> <small>(Solid)</small></h1>
      <p class="meta">
        <span id="status" data-status=${status}>${status}</span>
        <span id="pending" hidden=${() => sending() === 0}>sending ${sending}…</span>
        <span id="version">${() => (version() === undefined ? '' : `version ${version()}`)}</span>
      </p>
    </header>
    <form id="add-form" autocomplete="off" onSubmit=${add}>
      <input id="add-name" name="name" placeholder="Item" aria-label="Item name" />
      <input id="add-quantity" name="quantity" type="number" value="1" min="1" max="9999" aria-label="Quantity" />
      <button id="add-button" type="submit">Add</button>
    </form>
    <p id="error" role="alert" hidden=${() => !error()} data-code=${() => error()?.code || ''}>${() => error()?.message || ''}</p>
    <ul id="items"><${For} each=${() => state.items || []}>${Item}<//></ul>
    <p id="empty" hidden=${() => !state.items || state.items.length > 0}>The list is empty.</p>
    <footer>
      <button id="clear-bought" type="button" onClick=${() => send('clear_bought', {})}>Clear bought</button>
      <span class="hint">Open this page in a second window: both stay in sync.
        Other renderers of the same list: <a href=${`./?list=${listName}`}>plain DOM</a>, <a href=${`element.html?list=${listName}`}>web component</a>, <a href=${`vue.html?list=${listName}`}>Vue</a>.</span>
    </footer>
  </main>`;
}

render(App, document.getElementById('root'));
