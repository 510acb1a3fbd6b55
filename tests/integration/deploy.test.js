// The deployments as an operator runs them: the app never runs as root,
// mod_fcgid serves the page and the client next to the app, /health and
// /metrics through lighttpd (APP_ARGS), and a new binary rolled out under
// lighttpd without losing an event (docs/deploy.md, "Rolling out a new
// binary").
import assert from 'node:assert/strict';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { describe, test } from 'node:test';
import { EventSource } from 'eventsource';

import { createStateChannel } from '../../client/src/index.js';

import { get, post } from './lib/http.js';
import { APP, startApacheFcgid, startApacheProxy, startLighttpd, startNginx } from './lib/servers.js';

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

const uidOf = (pid) => Number(fs.readFileSync(`/proc/${pid}/status`, 'utf8').match(/^Uid:\s+(\d+)/m)[1]);

async function withServer(start, fn) {
	const s = await start();
	try {
		await fn(s);
	} catch (e) {
		e.message += `\n${s.logs()}`;
		throw e;
	} finally {
		const left = await s.stop();
		assert.deepEqual(left, []);
		assert.deepEqual(s.lastReports, [], `sanitizer or crash reports:\n${s.lastLogs}`);
	}
}

describe('deployments', () => {
	for (const [name, start, base] of [
		['lighttpd', () => startLighttpd({ procs: 1, appArgs: '--health --metrics' }), (s) => s.base],
		['apache mod_fcgid', () => startApacheFcgid({ procs: 4 }), (s) => s.base],
		['apache mod_proxy_fcgi', () => startApacheProxy(), (s) => s.base],
	]) {
		test(`${name}: the app runs unprivileged`, async () => {
			await withServer(start, async (s) => {
				// mod_fcgid spawns its process on the first request.
				assert.equal((await get(`${base(s)}state/list:who`)).status, 200);
				const pids = s.appPids();
				assert.ok(pids.length > 0, 'an app process');
				for (const pid of pids) {
					if (process.getuid() === 0) assert.notEqual(uidOf(pid), 0, `app ${pid} runs as root`);
					else assert.equal(uidOf(pid), process.getuid());
				}
			});
		});
	}

	test('lighttpd with APP_ARGS="--health --metrics": both answer from this host', async () => {
		await withServer(() => startLighttpd({ procs: 1, appArgs: '--health --metrics' }), async (s) => {
			const h = await get(`${s.base}health`);
			assert.equal(h.status, 200, h.text);
			const m = await get(`${s.base}metrics`);
			assert.equal(m.status, 200, m.text);
			assert.match(m.text, /^statechannel_open_streams 0$/m);
		});
	});

	// From another address of this host (127.0.0.2: any 127/8 address is
	// local), a client that is not 127.0.0.1 for the web server.
	const getFrom = (url, localAddress) => new Promise((resolve, reject) => {
		http.get(url, { localAddress, agent: false }, (res) => {
			res.resume();
			res.on('end', () => resolve(res.statusCode));
		}).on('error', reject);
	});

	for (const [name, start] of [
		['lighttpd', () => startLighttpd({ procs: 1, appArgs: '--health --metrics' })],
		['nginx', () => startNginx({ extra: '--health --metrics' })],
		['apache mod_proxy_fcgi', () => startApacheProxy({ extra: '--health --metrics' })],
		['apache mod_fcgid', () => startApacheFcgid({ procs: 4 })],
	]) {
		test(`${name}: /health and /metrics answer 127.0.0.1 only; the routes answer anyone`, async () => {
			await withServer(start, async (s) => {
				for (const route of ['health', 'metrics']) {
					assert.equal(await getFrom(`${s.base}${route}`, '127.0.0.2'), 403, `${route} from 127.0.0.2`);
					if (!name.includes('fcgid')) assert.equal(await getFrom(`${s.base}${route}`, '127.0.0.1'), 200, `${route} from 127.0.0.1`);
				}
				assert.equal(await getFrom(`${s.base}state/list:public`, '127.0.0.2'), 200);
			});
		});
	}

	test('mod_fcgid serves the page at / and the client at /client/', async () => {
		await withServer(() => startApacheFcgid({ procs: 4 }), async (s) => {
			const root = `http://127.0.0.1:${s.port}/`;
			const page = await get(root);
			assert.equal(page.status, 200);
			assert.match(page.text, /fcgid page/);
			const client = await get(`${root}client/src/index.js`);
			assert.equal(client.status, 200);
			assert.match(client.headers['content-type'], /javascript/);
			assert.match(client.text, /export function createStateChannel/);
		});
	});

	test('lighttpd: a new binary rolled out process by process loses no event', async () => {
		// The app lighttpd spawns is a copy the test can replace.
		const appIn = (dir) => {
			const bin = path.join(dir, 'rollout');
			fs.mkdirSync(bin, { recursive: true });
			fs.copyFileSync(APP, path.join(bin, 'app.fcgi'));
			fs.chmodSync(path.join(bin, 'app.fcgi'), 0o755);
			return path.join(bin, 'app.fcgi');
		};
		await withServer(() => startLighttpd({ procs: 2, app: appIn }), async (s) => {
			const topic = `list:rollout-${process.pid}`;
			// The client as a browser runs it (reconnecting by itself,
			// from its last cursor, also when a reconnect is refused).
			const ch = createStateChannel({ baseUrl: s.base.replace(/\/$/, ''), topic, EventSource });
			try {
				for (let i = 0; i < 200 && ch.getVersion() === undefined; i++) await sleep(50);
				assert.equal(ch.getVersion(), 0);
				assert.equal(ch.getStatus(), 'open');
				// Wait for both processes.
				for (let i = 0; i < 100 && s.appPids().length < 2; i++) {
					await get(`${s.base}state/${topic}`);
					await sleep(50);
				}
				const old = s.appPids();
				assert.equal(old.length, 2, 'lighttpd runs 2 app processes');
				// Events go on all the time (each POST retried with its id
				// until it is answered 200: the id makes a retry harmless).
				let posting = true;
				const answers = [];
				const poster = (async () => {
					for (let n = 0; posting; n++) {
						const body = { event: 'add', payload: { name: `e${n}` }, id: `rollout-${n}` };
						for (let tries = 0; ; tries++) {
							const r = await post(`${s.base}events/${topic}`, body).catch((e) => ({ status: 0, text: String(e) }));
							if (r.status === 200) { answers.push(r.json.version); break; }
							assert.ok(tries < 200, `POST e${n} never succeeded: ${r.status} ${r.text}`);
							await sleep(25);
						}
						await sleep(20);
					}
				})();
				// The rollout: the new binary replaces the old file (rename:
				// running processes keep theirs), then each old process is
				// stopped with SIGTERM and lighttpd starts the new binary.
				const file = s.app;
				fs.copyFileSync(APP, `${file}.new`);
				fs.chmodSync(`${file}.new`, 0o755);
				fs.renameSync(`${file}.new`, file);
				const ino = fs.statSync(file).ino;
				for (const pid of old) {
					process.kill(pid, 'SIGTERM');
					for (let i = 0; i < 200; i++) {
						const now = s.appPids();
						if (!now.includes(pid) && now.length === 2) break;
						await get(`${s.base}state/${topic}`).catch(() => {});
						await sleep(50);
					}
				}
				await sleep(500);
				posting = false;
				await poster;
				const now = s.appPids();
				assert.equal(now.length, 2, 'two app processes again');
				for (const pid of now) {
					assert.ok(!old.includes(pid), 'an old process survived');
					assert.equal(fs.statSync(`/proc/${pid}/exe`).ino, ino, 'runs the new binary');
				}
				// The channel (reconnected with its cursor) has every
				// event exactly once: the items are e0, e1, ... in order.
				const last = answers[answers.length - 1];
				for (let i = 0; i < 600 && ch.getVersion() < last; i++) await sleep(50);
				assert.deepEqual(answers, answers.map((_, i) => i + 1), 'one version per event');
				assert.equal(ch.getVersion(), last);
				assert.deepEqual(ch.getState().items.map((it) => it.name), answers.map((_, i) => `e${i}`));
			} finally {
				ch.close();
			}
		});
	});
});
