// The js-framework-benchmark table in SolidJS over statechannel-client/solid,
// written as Solid's JSX compiler writes it (a row template cloned per row,
// one render effect per changing text or class; a changing text is its
// text node's data, which is what insert() writes for {row.label} after the
// first time, and what React writes, its nodeValue): each patch op becomes a
// setStore path call, so "update every 10th row" re-runs 100 label effects
// and "select row" two class effects, nothing else.  The selection is
// createKeyedSelection's (a signal per row, O(1) a change), not Solid's
// createSelector (which walks all 1,000 rows' keys on every change to find
// the two whose answer changed): the pattern client/README.md recommends
// for selection in a large list.
import { createRoot, createRenderEffect, createMemo, mapArray } from 'solid-js';
import { template, insert } from 'solid-js/web';
import { createStateChannelStore, createKeyedSelection } from '../../../client/src/solid.js';

const rowTemplate = template('<tr><td class="id"></td><td><a class="lbl"> </a></td><td><a class="remove">×</a></td></tr>');
const tableTemplate = template('<div><p id="meta"></p><table><tbody id="tbody"></tbody></table></div>');

/** Mounts the table into `root`; options: those of createStateChannelStore. Returns { store, channel, dispose }. */
export function mountSolidTable(root, topic, options) {
  return createRoot((dispose) => {
    const [state, { push, status, version, channel }] = createStateChannelStore({ topic, ...options });
    const rowSelected = createKeyedSelection(() => state.selected);
    const view = tableTemplate();
    const meta = view.firstChild;
    const tbody = meta.nextSibling.firstChild;
    // The status line as Solid compiles <p data-status={status()}
    // data-version={version() ?? ''}>{topic} · {status()} · version
    // {version() ?? '–'} · {rows} rows</p>: a text node per dynamic part,
    // each written when its own signal changes (a frame: the version).
    const statusText = document.createTextNode('');
    const versionText = document.createTextNode('');
    const countText = document.createTextNode('');
    meta.append(`${topic} · `, statusText, ' · version ', versionText, ' · ', countText, ' rows');
    createRenderEffect(() => {
      const s = status();
      meta.dataset.status = s;
      statusText.data = s;
    });
    createRenderEffect(() => {
      const v = version();
      meta.dataset.version = v ?? '';
      versionText.data = v ?? '–';
    });
    createRenderEffect(() => (countText.data = state.rows ? state.rows.length : 0));
    const rows = createMemo(
      mapArray(
        () => state.rows || [],
        (row) => {
          const tr = rowTemplate();
          const id = tr.firstChild;
          const label = id.nextSibling.firstChild;
          const labelText = label.firstChild;
          const remove = id.nextSibling.nextSibling.firstChild;
          const selected = rowSelected(row.id);
          createRenderEffect(() => {
            id.textContent = row.id;
            tr.dataset.id = row.id;
          });
          createRenderEffect(() => (labelText.data = row.label));
          createRenderEffect(() => (tr.className = selected() ? 'danger' : ''));
          label.onclick = () => push('select', { id: row.id });
          remove.onclick = () => push('remove', { id: row.id });
          return tr;
        },
      ),
    );
    insert(tbody, rows);
    root.appendChild(view);
    return { store: state, channel, dispose };
  });
}
