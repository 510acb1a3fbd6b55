// The js-framework-benchmark table rendered with React from a StateChannel
// topic (examples/jsbench/app.c): every button sends an event; the table
// shows what the server's patches made of the state.  The benchmark
// (bench/browser_bench.mjs) drives window.bench.
import { createRoot } from 'react-dom/client';
import { StateChannelProvider, useStateChannelStore } from '../../../client/src/react.js';
import { Table, commits } from './react-table.jsx';

const params = new URLSearchParams(location.search);
const topic = params.get('topic') || 'bench:1';
// ?answers=0: the DOM changes only from the SSE patch frame (the server
// push path); default: from the POST's answer when it is the next version.
const applyAnswers = params.get('answers') !== '0';

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
  return <Table topic={topic} />;
}

createRoot(document.getElementById('root')).render(
  // share: false: the benchmark measures one tab's own stream.
  <StateChannelProvider topic={topic} options={{ applyAnswers, share: false }}>
    <Bench />
  </StateChannelProvider>,
);
