// The js-framework-benchmark table in SolidJS over statechannel-client/solid,
// written as Solid's JSX compiler writes it (a row template cloned per row,
// one render effect per changing text or class): each patch op becomes a
// setStore path call, so "update every 10th row" re-runs 100 label effects
// and "select row" two class effects (createSelector), nothing else.
import { createRoot, createSelector, createRenderEffect, createMemo, mapArray } from 'solid-js';
import { template, insert } from 'solid-js/web';
import { createStateChannelStore } from '../../../client/src/solid.js';

const rowTemplate = template('<tr><td class="id"></td><td><a class="lbl"></a></td><td><a class="remove">×</a></td></tr>');
const tableTemplate = template('<div><p id="meta"></p><table><tbody id="tbody"></tbody></table></div>');

/** Mounts the table into `root`; options: those of createStateChannelStore. Returns { store, channel, dispose }. */
export function mountSolidTable(root, topic, options) {
  return createRoot((dispose) => {
    const [state, { push, status, version, channel }] = createStateChannelStore({ topic, ...options });
    const isSelected = createSelector(() => state.selected);
    const view = tableTemplate();
    const meta = view.firstChild;
    const tbody = meta.nextSibling.firstChild;
    createRenderEffect(() => {
      meta.dataset.status = status();
      meta.dataset.version = version() ?? '';
      meta.textContent = `${topic} · ${status()} · version ${version() ?? '–'} · ${state.rows ? state.rows.length : 0} rows`;
    });
    const rows = createMemo(
      mapArray(
        () => state.rows || [],
        (row) => {
          const tr = rowTemplate();
          const id = tr.firstChild;
          const label = id.nextSibling.firstChild;
          const remove = id.nextSibling.nextSibling.firstChild;
          createRenderEffect(() => {
            id.textContent = row.id;
            tr.dataset.id = row.id;
          });
          createRenderEffect(() => (label.textContent = row.label));
          createRenderEffect(() => (tr.className = isSelected(row.id) ? 'danger' : ''));
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
