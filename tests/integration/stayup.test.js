// Staying up through lighttpd: the app's cap on open streams (503 with
// Retry-After past it, short requests still served), and a crash of the
// web server (SIGKILL): the app processes it spawned notice it is gone,
// stop listening and exit, so the restarted lighttpd spawns new ones.
import assert from 'node:assert/strict';
import path from 'node:path';
import { describe, test } from 'node:test';

import { get, openStream, post } from './lib/http.js';
import { running, startLighttpd, waitHttp } from './lib/servers.js';

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

describe('lighttpd: stream cap and web server crash', { concurrency: false }, () => {
	test('past --max-streams a stream gets 503 + Retry-After (JSON); GET and POST are served', async () => {
		const s = await startLighttpd({ procs: 1, maxStreams: 3 });
		const open = [];
		try {
			const topic = `list:cap-${process.pid}`;
			for (let i = 0; i < 3; i++) {
				const st = await openStream(`${s.base}stream/${topic}`);
				open.push(st);
				assert.equal(st.status, 200);
				await st.frameCount(1);
			}
			for (let i = 0; i < 5; i++) {
				const r = await get(`${s.base}stream/${topic}`);
				assert.equal(r.status, 503, r.text);
				assert.equal(r.json.error.code, 'too_many_streams');
				assert.ok(Number(r.headers['retry-after']) > 0, 'Retry-After');
			}
			const g = await get(`${s.base}state/${topic}`);
			assert.equal(g.status, 200);
			const p = await post(`${s.base}events/${topic}`, { event: 'add', payload: { name: 'x' } });
			assert.equal(p.status, 200, p.text);
			// The open streams still get the change.
			for (const st of open) await st.frameCount(2);
		} finally {
			for (const st of open) st.close();
			const left = await s.stop();
			assert.deepEqual(left, []);
		}
	});

	test('lighttpd killed (SIGKILL) and started again: the old app processes exit, new ones serve', async (ctx) => {
		const s = await startLighttpd({ procs: 2 });
		try {
			const topic = `list:crash-${process.pid}`;
			const r0 = await post(`${s.base}events/${topic}`, { event: 'add', payload: { name: 'before' } });
			assert.equal(r0.status, 200, r0.text);
			const st = await openStream(`${s.base}stream/${topic}`);
			await st.frameCount(1);
			const old = s.appPids();
			assert.ok(old.length >= 1, 'app processes');
			const lighttpd = s.children[0];
			const t0 = Date.now();
			process.kill(lighttpd.pid, 'SIGKILL');
			// Started again at once, as a supervisor would.
			const again = s.spawn('/usr/sbin/lighttpd', ['-D', '-f', path.join(s.dir, 'lighttpd.conf')], 'lighttpd2.log');
			await waitHttp(s.port, path.join(s.dir, 'lighttpd-error.log'), again);
			let back = -1;
			while (Date.now() - t0 < 30000) {
				const r = await get(`${s.base}state/${topic}`, { timeout: 5000 }).catch(() => null);
				if (r && r.status === 200) {
					back = Date.now() - t0;
					assert.deepEqual(r.json.state.items.map((i) => i.name), ['before']);
					break;
				}
				await sleep(100);
			}
			assert.ok(back >= 0, 'the service came back');
			ctx.diagnostic(`service back ${back} ms after the kill`);
			// The old processes exited by themselves, after their stream.
			const end = Date.now() + 15000;
			while (Date.now() < end && old.some(running)) await sleep(100);
			assert.deepEqual(old.filter(running), [], 'the old app processes exited');
			assert.ok(s.appPids().every((p) => !old.includes(p)), 'new processes serve');
			const r = await post(`${s.base}events/${topic}`, { event: 'add', payload: { name: 'after' } });
			assert.equal(r.status, 200, r.text);
			st.close();
		} finally {
			const left = await s.stop();
			assert.deepEqual(left, []);
		}
	});
});
