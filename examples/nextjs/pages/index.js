// The shopping list, server-rendered from GET /state and live afterwards.
// getServerSideProps reads the list's snapshot (with its cursor) from the
// FastCGI server; the page renders it, hydrates, and StateChannelProvider
// opens the stream right after that cursor: no change missed or repeated.
// The events have the demo's mutators (examples/shopping/www/mutators.js):
// a click shows at once; a refused event rolls back with its reason.
import { memo, useState } from 'react';
import Head from 'next/head';
import { StateChannelProvider, useStateChannel, useStateChannelSelector, getInitialState } from 'statechannel-client/react';
import { mutators } from '../../shopping/www/mutators.js';

const SERVER = process.env.STATECHANNEL_URL || 'http://127.0.0.1:8080';
// Where the browser finds the routes: this origin (next.config.mjs passes
// them on) unless NEXT_PUBLIC_STATECHANNEL_URL says otherwise.
const BROWSER_BASE = process.env.NEXT_PUBLIC_STATECHANNEL_URL || '';

export async function getServerSideProps({ query, req }) {
  const list = String(query.list || 'groceries').replace(/[^A-Za-z0-9:_.@-]/g, '') || 'groceries';
  const topic = `list:${list}`;
  try {
    // Forward who the user is, so the app's authorize() sees it.
    const initial = await getInitialState(SERVER, topic, {
      headers: { cookie: req.headers.cookie, authorization: req.headers.authorization },
    });
    return { props: { list, topic, initial } };
  } catch (err) {
    if (err.status === 404) return { notFound: true };
    if (err.status === 403) return { props: { list, topic, initial: null, denied: true } };
    throw err;
  }
}

const selectItems = (s) => (s ? s.items : []);

// memo: thanks to structural sharing an item whose object did not change
// is the same object, and this component does not re-render.
const Item = memo(function Item({ item, push }) {
  const [editing, setEditing] = useState(false);
  const [name, setName] = useState(item.name);
  return (
    <li data-id={item.id} className={item.bought ? 'bought' : ''}>
      <input type="checkbox" className="toggle" aria-label="bought" checked={item.bought} onChange={() => push('toggle', { id: item.id })} />
      {editing ? (
        <input
          className="rename-input"
          autoFocus
          value={name}
          onChange={(e) => setName(e.target.value)}
          onBlur={() => setEditing(false)}
          onKeyDown={(e) => {
            if (e.key === 'Enter') {
              setEditing(false);
              if (name !== item.name) push('rename', { id: item.id, name });
            } else if (e.key === 'Escape') setEditing(false);
          }}
        />
      ) : (
        <span className="name" onDoubleClick={() => (setName(item.name), setEditing(true))}>
          {item.name}
        </span>
      )}
      <span className="qty">× {item.quantity}</span>
      <button type="button" className="remove" onClick={() => push('remove', { id: item.id })}>
        Remove
      </button>
    </li>
  );
});

function ShoppingList({ list }) {
  const { pushMessage, status, pending, pendingEvents, clearFailed } = useStateChannel();
  const items = useStateChannelSelector(selectItems);
  const [name, setName] = useState('');
  const [quantity, setQuantity] = useState('1');
  // The newest refused event (its prediction is gone) and the server's
  // reason, e.g. "the name is empty"; until the next event succeeds.
  const failed = pendingEvents.findLast((e) => e.status === 'failed');
  const error = failed ? failed.error.message : null;

  const push = async (event, payload) => {
    try {
      await pushMessage(event, payload);
      clearFailed();
      return true;
    } catch {
      return false;
    }
  };

  return (
    <main>
      <h1>
        Shopping list <small>{list}</small>
      </h1>
      <p className="meta">
        <span id="status" data-status={status}>
          {status}
        </span>
        {pending > 0 && <span id="pending"> sending {pending}…</span>}
      </p>
      <form
        onSubmit={async (e) => {
          e.preventDefault();
          // Clear the form at once (the next item can be typed while this
          // one is on its way); give the text back if the server refuses it.
          const sent = { name, quantity };
          setName('');
          setQuantity('1');
          if (!(await push('add', { name: sent.name, quantity: Number(sent.quantity) }))) {
            setName((cur) => (cur === '' ? sent.name : cur));
            setQuantity((cur) => (cur === '1' ? sent.quantity : cur));
          }
        }}
      >
        <input id="add-name" placeholder="Item" value={name} onChange={(e) => setName(e.target.value)} />
        <input id="add-quantity" type="number" min="1" max="9999" value={quantity} onChange={(e) => setQuantity(e.target.value)} />
        <button type="submit">Add</button>
      </form>
      {error && (
        <p id="error" role="alert">
          {error}
        </p>
      )}
      <ul id="items">
        {items.map((item) => (
          <Item key={item.id} item={item} push={push} />
        ))}
      </ul>
      {items.length === 0 && <p id="empty">The list is empty.</p>}
      <button type="button" id="clear-bought" onClick={() => push('clear_bought', {})}>
        Clear bought
      </button>
    </main>
  );
}

export default function Page({ list, topic, initial, denied }) {
  return (
    <>
      <Head>
        <title>{`${list} — shopping list (Next.js)`}</title>
        <link rel="icon" href="data:," />
      </Head>
      {denied ? (
        <p>This list needs you to sign in.</p>
      ) : (
        <StateChannelProvider baseUrl={BROWSER_BASE} topic={topic} initial={initial} mutators={mutators}>
          <ShoppingList list={list} />
        </StateChannelProvider>
      )}
    </>
  );
}
