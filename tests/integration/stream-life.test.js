// --max-stream-life: the app ends each stream after a while (what keeps
// mod_fcgid's FcgidBusyTimeout from killing it); a real EventSource client
// reconnects with its Last-Event-ID and misses nothing, twice over.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { EventSource } from 'eventsource';

import { post } from './lib/http.js';
import { startApacheFcgid, startLighttpd } from './lib/servers.js';

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const LIFE = 2;

for (const [name, start] of [
	['lighttpd', () => startLighttpd({ procs: 1, streamLife: LIFE })],
	['apache mod_fcgid', () => startApacheFcgid({ procs: 8, streamLife: LIFE })],
]) {
	describe(`${name} with --max-stream-life ${LIFE}`, () => {
		test('EventSource reconnects after the app ends its stream and gets every change exactly once', async () => {
			const s = await start();
			const topic = `list:life-${process.pid}`;
			let es;
			try {
				es = new EventSource(`${s.base}stream/${topic}`);
				const got = [];
				let errors = 0;
				es.addEventListener('state', (e) => got.push(['state', JSON.parse(e.data).version]));
				es.addEventListener('patch', (e) => got.push(['patch', JSON.parse(e.data).version, e.lastEventId]));
				es.onerror = () => { errors += 1; };
				const end = Date.now() + 5000;
				while (got.length < 1 && Date.now() < end) await sleep(20);
				assert.deepEqual(got, [['state', 0]]);
				// Post changes over two stream lives (and the reconnect gaps).
				const answers = [];
				const t0 = Date.now();
				// ...until the app has ended the stream twice, and a bit more.
				let until = Infinity;
				while (Date.now() < until && Date.now() - t0 < 20000) {
					if (errors >= 2 && until === Infinity) until = Date.now() + 1000;
					const r = await post(`${s.base}events/${topic}`, { event: 'add', payload: { name: `n${answers.length}` } });
					assert.equal(r.status, 200, r.text);
					answers.push(r.json);
					await sleep(250);
				}
				const want = answers.length + 1;
				const end2 = Date.now() + 8000;
				while (got.length < want && Date.now() < end2) await sleep(50);
				await sleep(300);
				assert.ok(errors >= 2, `the app ended the stream (${errors} reconnects)`);
				assert.deepEqual(got, [['state', 0], ...answers.map((a) => ['patch', a.version, a.cursor])]);
			} catch (e) {
				e.message += `\n${s.logs()}`;
				throw e;
			} finally {
				if (es) es.close();
				const left = await s.stop();
				assert.deepEqual(left, []);
				assert.deepEqual(s.lastReports, [], `sanitizer or crash reports:\n${s.lastLogs}`);
			}
		});
	});
}
