// Operations through nginx in front of an app on its own socket: CORS
// (--allow-origin), GET /health and GET /metrics (--health, --metrics),
// and the signals (SIGTERM ends every stream with "retry: 0" and exits;
// SIGHUP changes nothing).  The browser side of CORS is in
// tests/browser/cors.test.mjs.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { describe } from 'node:test';

import { get, post, request } from './lib/http.js';
import { running, startNginx } from './lib/servers.js';
import { serverHooks } from './lib/suite.js';

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const ALLOWED = 'http://app.example:3000';
const OTHER = 'http://evil.example';
let serial = 0;
const topic = () => `list:ops${++serial}-${process.pid}`;
const add = (name) => ({ event: 'add', payload: { name, quantity: 1 } });

// The value of one counter (or gauge) line of a Prometheus text.
function metric(text, name) {
	const m = text.match(new RegExp(`^${name} (\\d+(?:\\.\\d+)?)$`, 'm'));
	assert.ok(m, `no ${name} in\n${text}`);
	return Number(m[1]);
}

const processGone = (pid) => !running(pid);

describe('CORS with --allow-origin ORIGIN', { concurrency: false }, () => {
	let base;
	const { stream, t } = serverHooks(
		() => startNginx({ extra: `--allow-origin ${ALLOWED} --allow-origin http://second.example` }),
		'',
		(s) => { base = s.base; },
	);

	t('a preflight from an allowed origin is 204 with methods, headers and max-age', async () => {
		const r = await request('OPTIONS', `${base}events/${topic()}`, {
			headers: { Origin: ALLOWED, 'Access-Control-Request-Method': 'POST', 'Access-Control-Request-Headers': 'content-type' },
		});
		assert.equal(r.status, 204, r.text);
		assert.equal(r.headers['access-control-allow-origin'], ALLOWED);
		assert.equal(r.headers['access-control-allow-credentials'], 'true');
		assert.match(r.headers['access-control-allow-methods'], /POST/);
		assert.match(r.headers['access-control-allow-headers'], /Content-Type/);
		assert.match(r.headers['access-control-allow-headers'], /Last-Event-ID/);
		assert.equal(r.headers['access-control-max-age'], '600');
		assert.match(r.headers.vary || '', /Origin/);
	});

	t('a preflight from another origin is 403 with a JSON error', async () => {
		const r = await request('OPTIONS', `${base}events/${topic()}`, {
			headers: { Origin: OTHER, 'Access-Control-Request-Method': 'POST' },
		});
		assert.equal(r.status, 403, r.text);
		assert.equal(r.json.error.code, 'origin_not_allowed');
		assert.equal(r.headers['access-control-allow-origin'], undefined);
	});

	t('GET, POST and streams from an allowed origin carry Allow-Origin and -Credentials', async () => {
		const tp = topic();
		const g = await get(`${base}state/${tp}`, { headers: { Origin: ALLOWED } });
		assert.equal(g.status, 200);
		assert.equal(g.headers['access-control-allow-origin'], ALLOWED);
		assert.equal(g.headers['access-control-allow-credentials'], 'true');
		assert.match(g.headers['access-control-expose-headers'], /ETag/);
		const p = await post(`${base}events/${tp}`, add('milk'), { headers: { Origin: ALLOWED } });
		assert.equal(p.status, 200, p.text);
		assert.equal(p.headers['access-control-allow-origin'], ALLOWED);
		const st = await stream(`stream/${tp}`, { headers: { Origin: ALLOWED } });
		assert.equal(st.status, 200);
		assert.equal(st.headers['access-control-allow-origin'], ALLOWED);
		assert.equal(st.headers['access-control-allow-credentials'], 'true');
		await st.frameCount(1);
		assert.equal(st.frames[0].event, 'state');
	});

	t('a POST from another origin is 403 and changes nothing; a read gets no CORS header', async () => {
		const tp = topic();
		const p = await post(`${base}events/${tp}`, add('x'), { headers: { Origin: OTHER } });
		assert.equal(p.status, 403, p.text);
		assert.equal(p.json.error.code, 'origin_not_allowed');
		const g = await get(`${base}state/${tp}`, { headers: { Origin: OTHER } });
		assert.equal(g.status, 200);
		assert.equal(g.headers['access-control-allow-origin'], undefined);
		assert.equal(g.json.version, 0, 'the refused POST changed nothing');
	});

	t('same-origin requests (Origin names the Host) and requests without Origin go on as before', async () => {
		const tp = topic();
		const self = base.replace(/^(https?:\/\/[^/]+).*$/, '$1');
		const p = await post(`${base}events/${tp}`, add('a'), { headers: { Origin: self } });
		assert.equal(p.status, 200, p.text);
		assert.equal(p.headers['access-control-allow-origin'], undefined);
		const q = await post(`${base}events/${tp}`, add('b'));
		assert.equal(q.status, 200, q.text);
	});

	t('a POST a form could send (text/plain, form types) is 415 even from an allowed origin', async () => {
		for (const type of ['text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x']) {
			const r = await request('POST', `${base}events/${topic()}`, {
				body: JSON.stringify(add('x')), headers: { Origin: ALLOWED, 'Content-Type': type },
			});
			assert.equal(r.status, 415, `${type}: ${r.text}`);
		}
	});
});

describe('CORS with --allow-origin * (reads only)', { concurrency: false }, () => {
	let base;
	const { t } = serverHooks(() => startNginx({ extra: '--allow-origin *' }), '', (s) => { base = s.base; });

	t('any origin reads with Allow-Origin * and no credentials; its POSTs and POST preflights are 403', async () => {
		const tp = topic();
		const g = await get(`${base}state/${tp}`, { headers: { Origin: OTHER } });
		assert.equal(g.status, 200);
		assert.equal(g.headers['access-control-allow-origin'], '*');
		assert.equal(g.headers['access-control-allow-credentials'], undefined);
		const pre = await request('OPTIONS', `${base}stream/${tp}`, { headers: { Origin: OTHER, 'Access-Control-Request-Method': 'GET' } });
		assert.equal(pre.status, 204);
		assert.equal(pre.headers['access-control-allow-origin'], '*');
		const prePost = await request('OPTIONS', `${base}events/${tp}`, { headers: { Origin: OTHER, 'Access-Control-Request-Method': 'POST' } });
		assert.equal(prePost.status, 403);
		const p = await post(`${base}events/${tp}`, add('x'), { headers: { Origin: OTHER } });
		assert.equal(p.status, 403);
	});
});

describe('without --allow-origin: same origin only, as before', { concurrency: false }, () => {
	let base;
	const { t } = serverHooks(() => startNginx(), '', (s) => { base = s.base; });

	t('no Access-Control header, OPTIONS is 405, a cross-origin JSON POST is not refused by the app', async () => {
		const tp = topic();
		const g = await get(`${base}state/${tp}`, { headers: { Origin: OTHER } });
		assert.equal(g.headers['access-control-allow-origin'], undefined);
		const o = await request('OPTIONS', `${base}events/${tp}`, { headers: { Origin: OTHER, 'Access-Control-Request-Method': 'POST' } });
		assert.equal(o.status, 405);
		assert.equal(o.headers['access-control-allow-origin'], undefined);
	});

	t('/health and /metrics are not served without their options', async () => {
		assert.equal((await get(`${base}health`)).status, 404);
		assert.equal((await get(`${base}metrics`)).status, 404);
	});
});

describe('GET /health and GET /metrics (--health --metrics)', { concurrency: false }, () => {
	let s;
	const { stream, t } = serverHooks(() => startNginx({ extra: '--health --metrics' }), '', (x) => { s = x; });

	t('/health is 200 while the database answers and 503 while it is locked', async () => {
		const ok = await get(`${s.base}health`);
		assert.equal(ok.status, 200, ok.text);
		assert.deepEqual(ok.json, { status: 'ok' });
		// Another process renames the table of the log away: every
		// query of the app fails until it is back.
		const sql = (q) => {
			const r = spawnSync('sqlite3', ['-cmd', '.timeout 5000', s.db, q], { encoding: 'utf8' });
			assert.equal(r.status, 0, r.stderr);
		};
		sql('ALTER TABLE log RENAME TO log_away');
		try {
			const bad = await get(`${s.base}health`);
			assert.equal(bad.status, 503, bad.text);
			assert.equal(bad.json.error.code, 'unavailable');
		} finally {
			sql('ALTER TABLE log_away RENAME TO log');
		}
		assert.equal((await get(`${s.base}health`)).status, 200);
	});

	t('/metrics counts events, streams, frames, bytes, resumes and cut-off subscribers', async () => {
		const tp = topic();
		const before = (await get(`${s.base}metrics`)).text;
		const r0 = await get(`${s.base}metrics`);
		assert.equal(r0.status, 200);
		assert.match(r0.headers['content-type'], /^text\/plain; version=0\.0\.4/);
		assert.match(before, /^# TYPE statechannel_commit_duration_seconds histogram$/m);
		const st = await stream(`stream/${tp}`);
		await st.frameCount(1);
		const p1 = await post(`${s.base}events/${tp}`, add('a'));
		assert.equal(p1.status, 200);
		const rej = await post(`${s.base}events/${tp}`, { event: 'add', payload: { name: '' } });
		assert.equal(rej.status, 422, rej.text);
		await st.frameCount(2);
		// A resume from the first patch's cursor: patches only.  From a
		// foreign cursor: the full state.
		const r1 = await stream(`stream/${tp}`, { headers: { 'Last-Event-ID': p1.json.cursor } });
		const r2 = await stream(`stream/${tp}?after=0000000000000000:1`);
		await r2.frameCount(1);
		assert.equal(r2.frames[0].event, 'state');
		// (Nothing was missed: r1 starts empty.)
		for (let i = 0; i < 5; i++) await post(`${s.base}events/${tp}`, add(`n${i}`));
		await r1.frameCount(5);
		assert.ok(r1.frames.every((f) => f.event === 'patch'));
		const after = (await get(`${s.base}metrics`)).text;
		const d = (name) => metric(after, name) - metric(before, name);
		assert.equal(d('statechannel_events_committed_total'), 6);
		assert.equal(d('statechannel_events_rejected_total'), 1);
		assert.equal(d('statechannel_events_failed_total'), 0);
		assert.equal(d('statechannel_streams_opened_total'), 3);
		assert.equal(d('statechannel_resumes_patches_total'), 1);
		assert.equal(d('statechannel_resumes_full_state_total'), 1);
		// The first frames of 3 streams, 6 patches to 2 of them.
		assert.ok(d('statechannel_stream_frames_sent_total') >= 3 + 6 + 5, after);
		assert.ok(d('statechannel_stream_bytes_sent_total') > 500, after);
		assert.equal(d('statechannel_commit_duration_seconds_count'), 7);
		assert.equal(metric(after, 'statechannel_open_streams'), 3);
	});
});

describe('signals', { concurrency: false }, () => {
	let s;
	const { stream, t } = serverHooks(() => startNginx(), '', (x) => { s = x; });

	t('SIGHUP is logged and changes nothing: streams stay open and get the next patch', async () => {
		const tp = topic();
		const st = await stream(`stream/${tp}`);
		await st.frameCount(1);
		const [pid] = s.appPids();
		process.kill(pid, 'SIGHUP');
		for (let i = 0; i < 100 && !fs.readFileSync(path.join(s.dir, 'app.log'), 'utf8').includes('SIGHUP'); i++) await sleep(50);
		assert.match(fs.readFileSync(path.join(s.dir, 'app.log'), 'utf8'), /SIGHUP ignored/);
		const p = await post(`${s.base}events/${tp}`, add('after-hup'));
		assert.equal(p.status, 200);
		await st.frameCount(2);
		assert.equal(st.frames[1].id, p.json.cursor);
		assert.ok(!processGone(pid));
	});

	t('SIGTERM ends every stream with "retry: 0" (reconnect at once) and the process exits', async () => {
		const sts = [];
		for (let i = 0; i < 3; i++) {
			const st = await stream(`stream/${topic()}`);
			await st.frameCount(1);
			assert.equal(st.retry, 2000);
			sts.push(st);
		}
		const [pid] = s.appPids();
		process.kill(pid, 'SIGTERM');
		for (const st of sts) {
			await st.until((x) => x.ended, 10000, 'the end of the stream');
			assert.equal(st.retry, 0, st.raw);
		}
		for (let i = 0; i < 200 && !processGone(pid); i++) await sleep(50);
		assert.ok(processGone(pid), 'the app exited');
		assert.ok(!fs.existsSync(path.join(s.dir, 'app.sock')), 'its socket file is gone');
	});
});

describe('rolling out a --listen process (docs/deploy.md)', { concurrency: false }, () => {
	let s;
	const { stream, t } = serverHooks(() => startNginx(), '', (x) => { s = x; });

	t('a new process on the same socket takes over; the old one, stopped, leaves the socket alone', async () => {
		const tp = topic();
		const sock = path.join(s.dir, 'app.sock');
		const st = await stream(`stream/${tp}`);
		await st.frameCount(1);
		const [old] = s.appPids();
		const ino = fs.statSync(sock).ino;
		s.spawn(s.app, ['--db', s.db, '--listen', sock, '--heartbeat', '1'], 'app2.log');
		for (let i = 0; i < 200 && (!fs.existsSync(sock) || fs.statSync(sock).ino === ino); i++) await sleep(25);
		assert.notEqual(fs.statSync(sock).ino, ino, 'the new process made its socket');
		process.kill(old, 'SIGTERM');
		await st.until((x) => x.ended, 10000, 'the end of the old stream');
		assert.equal(st.retry, 0);
		for (let i = 0; i < 200 && !processGone(old); i++) await sleep(50);
		assert.ok(processGone(old));
		assert.ok(fs.existsSync(sock), 'the new process\'s socket is still there');
		const p = await post(`${s.base}events/${tp}`, add('after'));
		assert.equal(p.status, 200, p.text);
		const again = await stream(`stream/${tp}`, { headers: { 'Last-Event-ID': st.frames[0].id || '' } });
		await again.frameCount(1);
		assert.equal(s.appPids().length, 1);
	});
});
