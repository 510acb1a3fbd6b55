// Solid against React on one page and one topic: ?fw=solid or ?fw=react
// renders the js-framework-benchmark table with that adapter, both on the
// stream path only (applyAnswers: false: the DOM changes from the SSE
// patch frame).  window.bench.run(event, payload) sends an event and
// resolves with the time from the frame's arrival (the EventSource's
// "patch" event, before the client parses it) to the DOM showing it (React:
// the layout effect of the commit; Solid: right after the store's
// synchronous update).  Driven by bench/adapters_bench.mjs.  Both moments
// are also performance marks ("sc-arrival:CURSOR", "sc-commit:VERSION",
// each after its time was taken): in a trace, their thread times give the
// main thread's CPU time between the two.
import { createRoot } from 'react-dom/client';
import { StateChannelProvider, useStateChannelStore } from '../../../client/src/react.js';
import { Table, commits } from './react-table.jsx';
import { mountSolidTable } from './solid-table.js';

const params = new URLSearchParams(location.search);
const topic = params.get('topic') || 'bench:1';
const fw = params.get('fw') === 'solid' ? 'solid' : 'react';

// Arrival time of each patch frame, by its id (= the event's cursor), and
// the frames' data (for replay()).
const arrivals = new Map();
const received = [];
let source = null;
class TimedEventSource extends EventSource {
  constructor(url, init) {
    super(url, init);
    source = this;
    // registered before the client's own listener: runs first
    this.addEventListener('patch', (e) => {
      arrivals.set(e.lastEventId, performance.now());
      if (e.lastEventId) {
        received.push(e.data);
        performance.mark(`sc-arrival:${e.lastEventId}`);
      }
    });
  }
}
const options = { applyAnswers: false, EventSource: TimedEventSource };
// Every commit (React's layout effect, Solid's listener below) pushes
// [version, time]: the mark follows the push, outside the time taken.
commits.push = function (c) {
  const n = Array.prototype.push.call(this, c);
  performance.mark(`sc-commit:${c[0]}`);
  return n;
};

function expose(store) {
  window.bench = {
    fw,
    store,
    async run(event, payload) {
      performance.clearMarks();
      const t0 = performance.now();
      const answer = await store.push(event, payload);
      const changed = !!(answer.patch && answer.patch.length);
      if (!changed) return { ms: 0, version: answer.version, cursor: answer.cursor, changed };
      for (;;) {
        const c = commits.find(([v, t]) => v >= answer.version && t >= t0);
        const a = arrivals.get(answer.cursor);
        if (c && a !== undefined) return { ms: c[1] - a, version: answer.version, cursor: answer.cursor, changed };
        if (performance.now() > t0 + 20000) throw new Error(`${event}: version ${answer.version} was not shown within 20 s (the channel is at version ${store.getVersion()})`);
        await new Promise((r) => setTimeout(r, 0));
      }
    },
    /**
     * Replays the last two patch frames received, alternately, n times as
     * the following versions (dispatched on the page's EventSource as the
     * browser would): the mean ms from dispatch to the DOM showing each.
     * The page's state then runs ahead of the server's: reload after.
     */
    async replay(n) {
      const [a, b] = received.slice(-2).map((d) => JSON.parse(d));
      const v0 = store.getVersion();
      const data = Array.from({ length: n }, (_, i) => JSON.stringify({ ...(i % 2 ? b : a), version: v0 + i + 1 }));
      let total = 0;
      for (let i = 0; i < n; i++) {
        const v = v0 + i + 1;
        const t0 = performance.now();
        source.dispatchEvent(new MessageEvent('patch', { data: data[i] }));
        // Solid has committed by now, React commits in a task of its
        // own: wait for it, and count until the commit's own time stamp
        // (not until this loop saw it).
        let c;
        const deadline = t0 + 10000;
        while (!(c = commits.find(([cv]) => cv >= v))) {
          if (performance.now() > deadline) throw new Error(`replay: version ${v} was not committed within 10 s (the channel is at version ${store.getVersion()})`);
          await new Promise((r) => setTimeout(r, 0));
        }
        total += c[1] - t0;
        if (commits.length > 100) commits.splice(0, commits.length - 10);
      }
      return total / n;
    },
  };
}

if (fw === 'react') {
  function Bench() {
    expose(useStateChannelStore());
    return <Table topic={topic} />;
  }
  createRoot(document.getElementById('root')).render(
    <StateChannelProvider topic={topic} options={options}>
      <Bench />
    </StateChannelProvider>,
  );
} else {
  const { channel } = mountSolidTable(document.getElementById('root'), topic, options);
  // after the store's own listener: the DOM is updated by then
  channel.onPatch(({ version }) => commits.push([version, performance.now()]));
  channel.onState(({ version }) => commits.push([version, performance.now()]));
  expose(channel);
}
