// The js-framework-benchmark table rendered with React from a StateChannel
// topic (examples/jsbench/app.c): every button sends an event; the table
// shows what the server's patches made of the state.  The benchmark
// (bench/browser_bench.mjs) drives window.bench.
import { useLayoutEffect } from 'react';
import { createRoot } from 'react-dom/client';
import {
  StateChannelProvider,
  useStateChannel,
  useStateChannelSelector,
  useStateChannelStore,
} from '../../../client/src/react.js';
import { RowsTable, selRows } from './rows.jsx';

const params = new URLSearchParams(location.search);
const topic = params.get('topic') || 'bench:1';
// ?answers=0: the DOM changes only from the SSE patch frame (the server
// push path); default: from the POST's answer when it is the next version.
const applyAnswers = params.get('answers') !== '0';

// Every commit of the table: [version, time]; the benchmark waits for the
// commit of the version an event produced.
const commits = [];

function Table() {
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

function Bench() {
  const store = useStateChannelStore();
  window.bench = {
    store,
    commits,
    /** Sends one event; resolves with {ms, version} once the DOM shows it. */
    async run(event, payload) {
      const t0 = performance.now();
      const answer = await store.push(event, payload);
      const answerMs = performance.now() - t0;
      const changed = !!(answer.patch && answer.patch.length);
      const info = { version: answer.version, cursor: answer.cursor, changed, answerMs, answerBytes: JSON.stringify(answer).length };
      if (!changed) return { ms: answerMs, ...info }; // nothing changed
      for (;;) {
        const c = commits.find(([v, t]) => v >= answer.version && t >= t0);
        if (c) return { ms: c[1] - t0, ...info };
        await new Promise((r) => setTimeout(r, 0));
      }
    },
  };
  return <Table />;
}

createRoot(document.getElementById('root')).render(
  // share: false: the benchmark measures one tab's own stream.
  <StateChannelProvider topic={topic} options={{ applyAnswers, share: false }}>
    <Bench />
  </StateChannelProvider>,
);
