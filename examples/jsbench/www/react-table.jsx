// The js-framework-benchmark table in React over a StateChannel topic
// (examples/jsbench/app.c), with its buttons and status line: used by
// main.jsx (the browser benchmark's page) and compare.jsx (Solid against
// React on one page).  The rows are rows.jsx's table.
import { useLayoutEffect } from 'react';
import { useStateChannel, useStateChannelSelector, useStateChannelStore } from '../../../client/src/react.js';
import { RowsTable, selRows } from './rows.jsx';

// Every commit of the table: [version, time]; the benchmark waits for the
// commit of the version an event produced.
export const commits = [];

export function Table({ topic }) {
  const { pushMessage, status, pending } = useStateChannel();
  const store = useStateChannelStore();
  const rows = useStateChannelSelector(selRows);
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
      <RowsTable push={pushMessage} />
    </>
  );
}
