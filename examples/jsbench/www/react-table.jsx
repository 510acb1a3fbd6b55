// The js-framework-benchmark table in React over a StateChannel topic
// (examples/jsbench/app.c): used by main.jsx (the browser benchmark's page)
// and compare.js (Solid against React on one page).
import { memo, useLayoutEffect } from 'react';
import { useStateChannel, useStateChannelSelector, useStateChannelStore } from '../../../client/src/react.js';

// Every commit of the table: [version, time]; the benchmark waits for the
// commit of the version an event produced.
export const commits = [];

const Row = memo(function Row({ row, selected, push }) {
  return (
    <tr className={selected ? 'danger' : ''} data-id={row.id}>
      <td className="id">{row.id}</td>
      <td>
        <a className="lbl" onClick={() => push('select', { id: row.id })}>
          {row.label}
        </a>
      </td>
      <td>
        <a className="remove" onClick={() => push('remove', { id: row.id })}>
          ×
        </a>
      </td>
    </tr>
  );
});

const selRows = (s) => (s ? s.rows : []);
const selSelected = (s) => (s ? s.selected : null);

export function Table({ topic }) {
  const { pushMessage, status, pending } = useStateChannel();
  const store = useStateChannelStore();
  const rows = useStateChannelSelector(selRows);
  const selected = useStateChannelSelector(selSelected);
  const version = store.getVersion();
  useLayoutEffect(() => {
    commits.push([version, performance.now()]);
  }, [version]);
  const b = (event, label, payload) => (
    <button id={event} type="button" onClick={() => pushMessage(event, payload)}>
      {label}
    </button>
  );
  return (
    <>
      <div className="buttons">
        {b('create', 'Create 1,000 rows')}
        {b('create_10000', 'Create 10,000 rows')}
        {b('append_1000', 'Append 1,000 rows')}
        {b('update_every_10th', 'Update every 10th row')}
        {b('clear', 'Clear')}
        {b('swap', 'Swap rows')}
      </div>
      <p id="meta" data-status={status} data-version={version ?? ''}>
        {topic} · {status} · version {version ?? '–'} · {rows.length} rows{pending ? ` · sending ${pending}` : ''}
      </p>
      <table>
        <tbody id="tbody">
          {rows.map((r) => (
            <Row key={r.id} row={r} selected={r.id === selected} push={pushMessage} />
          ))}
        </tbody>
      </table>
    </>
  );
}

