// One row of the js-framework-benchmark table and the selectors of the
// table's state, and the table: shared by the benchmark pages (main.jsx and
// compare.jsx through react-table.jsx, and bench/browser_optimistic.jsx).
import { memo } from 'react';
import { useStateChannelSelector } from '../../../client/src/react.js';

export const Row = memo(function Row({ row, selected, push }) {
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

export const selRows = (s) => (s ? s.rows : []);
export const selSelected = (s) => (s ? s.selected : null);

/** The table of the rows, the selected one highlighted. */
export function RowsTable({ push }) {
  const rows = useStateChannelSelector(selRows);
  const selected = useStateChannelSelector(selSelected);
  return (
    <table>
      <tbody id="tbody">
        {rows.map((r) => (
          <Row key={r.id} row={r} selected={r.id === selected} push={push} />
        ))}
      </tbody>
    </table>
  );
}
