// The page of the optimistic-update benchmark (bench/browser_optimistic.mjs):
// the js-framework-benchmark table in React through StateChannelProvider,
// with the jsbench mutators (?mutators=1) or without (?mutators=0, every
// change waits for the server).  window.bench.click(what) clicks like a
// user and measures click → DOM (the first DOM mutation of the table) and
// click → the next frame, then waits until the server has confirmed it.
import { useCallback } from 'react';
import { createRoot } from 'react-dom/client';
import { StateChannelProvider, useStateChannel, useStateChannelSelector, useStateChannelStore } from '../client/src/react.js';
import { jsbenchMutators } from './browser_jsbench_mutators.js';
import { RowsTable, selRows } from '../examples/jsbench/www/rows.jsx';

const params = new URLSearchParams(location.search);
const topic = params.get('topic') || 'bench:1';
const withMutators = params.get('mutators') !== '0';

function Table() {
  const { pushMessage, status } = useStateChannel();
  const rows = useStateChannelSelector(selRows);
  const push = useCallback((e, p) => pushMessage(e, p).catch(() => {}), [pushMessage]);
  return (
    <>
      <div className="buttons">
        {['create', 'update_every_10th', 'swap', 'clear'].map((e) => (
          <button key={e} id={e} type="button" onClick={() => push(e)}>
            {e}
          </button>
        ))}
      </div>
      <p id="meta" data-status={status}>
        {rows.length} rows
      </p>
      <RowsTable push={push} />
    </>
  );
}

function Bench() {
  const store = useStateChannelStore();
  window.bench = {
    store,
    /** Sends event through the button and waits until it is done (setup). */
    async run(event) {
      const v = store.getVersion();
      document.getElementById(event).click();
      while (store.getVersion() === v || store.getPendingEvents().length > 0) await new Promise((r) => setTimeout(r, 5));
    },
    /**
     * Clicks what (a CSS selector) and resolves with { stateMs, domMs,
     * frameMs, answerMs }: click → getState() changed, → first DOM change
     * of the table, → the frame after it, → the server's confirmation.
     */
    click(selector) {
      const el = document.querySelector(selector);
      const tbody = document.getElementById('tbody');
      const v0 = store.getVersion();
      const s0 = store.getState();
      return new Promise((resolve) => {
        const out = {};
        let t0 = 0;
        const done = () => {
          if (out.frameMs === undefined || out.answerMs === undefined) return;
          resolve(out);
        };
        const mo = new MutationObserver(() => {
          mo.disconnect();
          out.domMs = performance.now() - t0;
          requestAnimationFrame(() => {
            out.frameMs = performance.now() - t0;
            done();
          });
        });
        mo.observe(tbody, { subtree: true, childList: true, attributes: true, characterData: true });
        const off = store.subscribe(() => {
          if (out.stateMs === undefined && store.getState() !== s0) out.stateMs = performance.now() - t0;
          if (store.getVersion() === v0 || store.getPendingEvents().length > 0) return;
          off();
          out.answerMs = performance.now() - t0;
          done();
        });
        t0 = performance.now();
        el.click();
      });
    },
  };
  return <Table />;
}

createRoot(document.getElementById('root')).render(
  // share: false: the benchmark measures one tab's own stream.
  <StateChannelProvider topic={topic} mutators={withMutators ? jsbenchMutators : undefined} options={{ share: false }}>
    <Bench />
  </StateChannelProvider>,
);
