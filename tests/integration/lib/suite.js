// The integration suite, the same for every web server: the HTTP surface
// of docs/protocol.md through a real server, driven by real HTTP and SSE
// clients.  A test file calls defineSuite(name, start) with the function
// that starts its server (lib/servers.js).
import assert from 'node:assert/strict';
import fs from 'node:fs';
import net from 'node:net';
import { spawnSync } from 'node:child_process';
import { after, before, describe, test } from 'node:test';
import { EventSource } from 'eventsource';

import { get, openStream, post, request } from './http.js';
import { BODY_LIMIT, CLI, HEARTBEAT, fdCount } from './servers.js';

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
let serial = 0;
// A fresh list per test, so tests do not see each other's changes.
const newTopic = (tag = 't') => `list:${tag}${++serial}-${process.pid}`;

const addItem = (base, topic, name, extra = {}) =>
	post(`${base}events/${topic}`, { event: 'add', payload: { name, quantity: 1 }, ...extra });

function assertJsonError(r, status, what) {
	assert.equal(r.status, status, `${what}: status ${r.status}, body ${r.text.slice(0, 300)}`);
	assert.match(r.headers['content-type'] || '', /^application\/json/, `${what}: content-type`);
	assert.ok(r.json && r.json.error, `${what}: body is not a JSON error: ${r.text.slice(0, 300)}`);
	assert.equal(typeof r.json.error.code, 'string', `${what}: error.code`);
	assert.equal(typeof r.json.error.message, 'string', `${what}: error.message`);
}

// One raw HTTP/1.1 exchange on 127.0.0.1:port (request: the whole head,
// no body sent); resolves {status, headers, body} when the server closes
// or after 5 s.
function rawRequest(port, head) {
	return new Promise((resolve, reject) => {
		const sock = net.connect(Number(port), '127.0.0.1');
		let buf = '';
		const done = () => {
			sock.destroy();
			const [h, ...rest] = buf.split('\r\n\r\n');
			const lines = h.split('\r\n');
			const headers = {};
			for (const l of lines.slice(1)) {
				const i = l.indexOf(':');
				if (i > 0) headers[l.slice(0, i).toLowerCase()] = l.slice(i + 1).trim();
			}
			resolve({ status: Number((lines[0] || '').split(' ')[1]), headers, body: rest.join('\r\n\r\n'), text: buf });
		};
		sock.setEncoding('utf8');
		sock.on('data', (d) => { buf += d; });
		sock.on('end', done);
		sock.on('error', (e) => (buf ? done() : reject(e)));
		sock.setTimeout(5000, done);
		sock.write(head);
	});
}

const CURSOR = /^[0-9A-Za-z]+:\d+$/;
const seqOf = (cursor) => Number(cursor.split(':')[1]);
const epochOf = (cursor) => cursor.split(':')[0];

// Inside a describe(): before() starts the server (start()) and hands it
// to onStart, after() closes the streams opened and stops the server,
// checking nothing is left behind.  Returns stream(path, opts), an
// openStream on the server closed at the end, and t(title, fn, opts), a
// test() that prints the server's logs (headed by label) with a failure.
export function serverHooks(start, label, onStart) {
	let s;
	const open = [];
	const stream = async (path, opts) => {
		const st = await openStream(s.base + path, opts);
		open.push(st);
		return st;
	};

	before(async () => {
		s = await start();
		onStart(s);
	});
	after(async () => {
		for (const st of open) st.close();
		if (!s) return;
		const left = await s.stop();
		assert.deepEqual(left, [], `processes left after stop: ${left}`);
		assert.deepEqual(s.lastReports, [], `sanitizer or crash reports in the logs:\n${s.lastLogs}`);
	});

	// On a failure, print the server's logs with the error.
	const t = (title, fn, opts = {}) => test(title, opts, async (ctx) => {
		try {
			await fn(ctx);
		} catch (e) {
			e.message += `\n--- ${label}logs (${s && s.dir}):\n${s ? s.logs() : ''}`;
			throw e;
		}
	});
	return { stream, t };
}

// options: { streams: how many streams the "disconnect" test opens (under
// mod_fcgid each pins a process), multiProcess: 'balanced' (lighttpd's
// max-procs) or 'pinned' (mod_fcgid) when several app processes serve,
// prefix: the mount point expected }
export function defineSuite(name, start, options = {}) {
	const nStreams = options.streams ?? 50;
	describe(name, { concurrency: false }, () => {
		let s;
		let base;
		const { stream, t } = serverHooks(start, `${name} `, (x) => {
			s = x;
			base = x.base;
		});

		t('GET /state answers 200 {topic,version,cursor,state} with an ETag, 304 on If-None-Match', async () => {
			const topic = newTopic();
			const r = await get(`${base}state/${topic}`);
			assert.equal(r.status, 200, r.text);
			assert.match(r.headers['content-type'], /^application\/json/);
			assert.equal(r.json.topic, topic);
			assert.equal(r.json.version, 0);
			assert.match(r.json.cursor, CURSOR);
			assert.deepEqual(r.json.state, { items: [], next_id: 1 });
			const etag = r.headers.etag;
			assert.ok(etag, 'ETag header');
			const r2 = await get(`${base}state/${topic}`, { headers: { 'If-None-Match': etag } });
			assert.equal(r2.status, 304);
			assert.equal(r2.text, '');
			await addItem(base, topic, 'milk');
			const r3 = await get(`${base}state/${topic}`, { headers: { 'If-None-Match': etag } });
			assert.equal(r3.status, 200, 'a changed topic answers 200 to the old ETag');
			assert.notEqual(r3.headers.etag, etag);
			assert.equal(r3.json.version, 1);
		});

		t('POST /events answers 200 {topic,version,cursor,patch} and changes the state', async () => {
			const topic = newTopic();
			const r = await addItem(base, topic, 'Milk');
			assert.equal(r.status, 200, r.text);
			assert.match(r.headers['content-type'], /^application\/json/);
			assert.equal(r.json.topic, topic);
			assert.equal(r.json.version, 1);
			assert.match(r.json.cursor, CURSOR);
			assert.ok(Array.isArray(r.json.patch) && r.json.patch.length > 0, r.text);
			const r2 = await addItem(base, topic, 'Eggs');
			assert.equal(r2.json.version, 2);
			assert.ok(seqOf(r2.json.cursor) > seqOf(r.json.cursor), 'seq grows');
			const st = await get(`${base}state/${topic}`);
			assert.equal(st.json.version, 2);
			assert.equal(st.json.cursor, r2.json.cursor);
			assert.deepEqual(st.json.state.items.map((i) => i.name), ['Milk', 'Eggs']);
		});

		t('a stream sends retry, one state frame, then a patch frame per change with id = cursor, and heartbeats', async () => {
			const topic = newTopic();
			const st = await stream(`stream/${topic}`);
			assert.equal(st.status, 200);
			assert.match(st.headers['content-type'], /^text\/event-stream/);
			await st.frameCount(1);
			const first = st.frames[0];
			assert.equal(first.event, 'state');
			assert.match(first.id, CURSOR);
			assert.equal(first.json.topic, topic);
			assert.equal(first.json.version, 0);
			assert.deepEqual(first.json.state, { items: [], next_id: 1 });
			assert.ok(st.retry > 0, 'a retry: line');
			const answers = [];
			for (const n of ['a', 'b', 'c']) answers.push((await addItem(base, topic, n)).json);
			await st.frameCount(4);
			for (let i = 0; i < 3; i++) {
				const f = st.frames[1 + i];
				assert.equal(f.event, 'patch');
				assert.equal(f.id, answers[i].cursor, 'id = the cursor the POST answered');
				assert.equal(f.json.topic, topic);
				assert.equal(f.json.version, answers[i].version);
				assert.deepEqual(f.json.patch, answers[i].patch);
			}
			await st.until((x) => x.comments.length > 0, HEARTBEAT * 1000 + 3000, 'a heartbeat comment');
			assert.equal(st.frames.length, 4, 'nothing twice');
			st.close();
		});

		t('one stream follows several topics (/stream?topic=a&topic=b)', async () => {
			const a = newTopic('a');
			const b = newTopic('b');
			const st = await stream(`stream?topic=${a}&topic=${b}`);
			assert.equal(st.status, 200);
			await st.frameCount(2);
			assert.deepEqual(st.frames.map((f) => [f.event, f.json.topic]).sort(),
				[['state', a], ['state', b]]);
			const ra = await addItem(base, a, 'x');
			const rb = await addItem(base, b, 'y');
			await st.frameCount(4);
			assert.deepEqual(st.frames.slice(2).map((f) => [f.event, f.json.topic, f.id]),
				[['patch', a, ra.json.cursor], ['patch', b, rb.json.cursor]]);
			st.close();
			// One Last-Event-ID resumes both topics, in seq order.
			const missed = [];
			for (const [tp, n] of [[b, 'b2'], [a, 'a2'], [b, 'b3']]) missed.push((await addItem(base, tp, n)).json);
			const r = await stream(`stream?topic=${a}&topic=${b}`, { headers: { 'Last-Event-ID': rb.json.cursor } });
			await r.frameCount(3);
			await sleep(200);
			assert.deepEqual(r.frames.map((f) => [f.event, f.json.topic, f.id]),
				missed.map((m) => ['patch', m.topic, m.cursor]));
			r.close();
		});

		t('changes made by other processes reach every open stream (other app processes, the statechannel command)', async (ctx) => {
			const topic = newTopic();
			const before = new Map(s.appPids().map((p) => [p, fdCount(p)]));
			const streams = [];
			for (let i = 0; i < 3; i++) streams.push(await stream(`stream/${topic}`));
			for (const st of streams) await st.frameCount(1);
			if (options.multiProcess === 'balanced') {
				// lighttpd spreads the streams over its processes: some are
				// held by a process other than the one serving each POST.
				const holders = s.appPids().filter((p) => fdCount(p) > (before.get(p) ?? 0));
				assert.ok(holders.length >= 2, `streams held by several processes: ${holders} of ${s.appPids()}`);
			} else if (options.multiProcess === 'pinned') {
				// mod_fcgid: one request per process, so each open stream
				// pins a process of its own and the POSTs go to others.
				assert.ok(s.appPids().length >= 3, `one process per stream: ${s.appPids()}`);
			}
			const answers = [];
			for (let i = 0; i < 4; i++) answers.push((await addItem(base, topic, `p${i}`)).json);
			let expect = 5;
			const help = fs.existsSync(CLI) ? spawnSync(CLI, ['--help'], { encoding: 'utf8' }).stdout : '';
			if (/^\s+patch\b/m.test(help)) {
				const ops = JSON.stringify([{ op: 'replace', path: '/next_id', value: 100 }]);
				const r = s.cli(['patch', topic, '-'], ops);
				assert.equal(r.status, 0, `statechannel patch: ${r.stderr}${r.stdout}`);
				expect = 6;
			} else {
				ctx.diagnostic(`${CLI} has no patch subcommand yet: that part is skipped`);
			}
			for (const st of streams) {
				await st.frameCount(expect);
				assert.deepEqual(st.frames.slice(1, 5).map((f) => f.id), answers.map((a) => a.cursor));
				if (expect === 6) {
					const last = st.frames[5];
					assert.equal(last.event, 'patch');
					assert.equal(last.json.version, 5);
					assert.deepEqual(last.json.patch, [{ op: 'replace', path: '/next_id', value: 100 }]);
				}
				st.close();
			}
			const g = await get(`${base}state/${topic}`);
			assert.equal(g.json.version, expect - 1);
		});

		t('resume after a disconnect (Last-Event-ID, ?after=, ?last_event_id=) gets exactly the missed patches', async () => {
			const ways = [
				(topic, last) => [`stream/${topic}`, { headers: { 'Last-Event-ID': last } }],
				(topic, last) => [`stream/${topic}?after=${encodeURIComponent(last)}`, {}],
				(topic, last) => [`stream/${topic}?last_event_id=${encodeURIComponent(last)}`, {}],
			];
			for (const way of ways) {
				const topic = newTopic();
				const st = await stream(`stream/${topic}`);
				await st.frameCount(1);
				const r0 = await addItem(base, topic, 'seen');
				await st.frameCount(2);
				const last = st.frames[1].id;
				assert.equal(last, r0.json.cursor);
				st.close();
				const missed = [];
				for (const n of ['m1', 'm2', 'm3']) missed.push((await addItem(base, topic, n)).json);
				const [p, o] = way(topic, last);
				const r = await stream(p, o);
				await r.frameCount(3);
				await sleep(200);
				assert.deepEqual(r.frames.map((f) => [f.event, f.id, f.json.version]),
					missed.map((m) => ['patch', m.cursor, m.version]), `resume by ${p}`);
				assert.deepEqual(r.frames.map((f) => f.json.patch), missed.map((m) => m.patch));
				// and it goes on live
				const more = (await addItem(base, topic, 'live')).json;
				await r.frameCount(4);
				assert.equal(r.frames[3].id, more.cursor);
				assert.equal(r.frames.length, 4);
				r.close();
			}
		});

		t('a cursor of another epoch, or one older than the log keeps, gets the full state', async (ctx) => {
			const topic = newTopic();
			const r1 = await addItem(base, topic, 'one');
			await addItem(base, topic, 'two');
			const epoch = epochOf(r1.json.cursor);
			const foreign = `${epoch === 'deadbeef' ? 'cafef00d' : 'deadbeef'}:${seqOf(r1.json.cursor)}`;
			for (const cur of [foreign, 'garbage', `${epoch}:999999999`]) {
				const st = await stream(`stream/${topic}`, { headers: { 'Last-Event-ID': cur } });
				await st.frameCount(1);
				assert.equal(st.frames[0].event, 'state', `cursor ${cur}`);
				assert.equal(st.frames[0].json.version, 2);
				assert.deepEqual(st.frames[0].json.state.items.map((i) => i.name), ['one', 'two']);
				st.close();
			}
			// Pruned: the log rows of this topic are gone (as retention
			// does), so its cursor cannot be resumed with patches.
			const pruned = pruneLog(s.db, topic, s.user);
			if (!pruned) {
				ctx.diagnostic('the pruned case is skipped: schema.sql has no topics.floor');
				return;
			}
			const st = await stream(`stream/${topic}`, { headers: { 'Last-Event-ID': r1.json.cursor } });
			await st.frameCount(1);
			assert.equal(st.frames[0].event, 'state', 'pruned cursor');
			assert.equal(st.frames[0].json.version, 2);
			st.close();
		});

		t('a repeated idempotency id answers the first result and changes nothing', async () => {
			const topic = newTopic();
			const id = `k-${Date.now()}`;
			const r1 = await addItem(base, topic, 'once', { id });
			assert.equal(r1.status, 200, r1.text);
			const r2 = await addItem(base, topic, 'once', { id });
			assert.equal(r2.status, 200, r2.text);
			assert.deepEqual(r2.json, r1.json);
			const g = await get(`${base}state/${topic}`);
			assert.equal(g.json.version, 1);
			assert.equal(g.json.state.items.length, 1);
			// another id is another event
			const r3 = await addItem(base, topic, 'once', { id: `${id}-2` });
			assert.equal(r3.json.version, 2);
		});

		t('authorize refuses with 403 (list:private-* without REMOTE_USER)', async () => {
			const topic = `list:private-${process.pid}`;
			assertJsonError(await get(`${base}state/${topic}`), 403, 'GET');
			assertJsonError(await addItem(base, topic, 'x'), 403, 'POST');
			const st = await stream(`stream/${topic}`);
			assert.equal(st.status, 403);
			st.close();
		});

		t('bad input: JSON errors with the right status, nothing changed', async () => {
			const topic = newTopic();
			await addItem(base, topic, 'keep');
			const ev = `${base}events/${topic}`;
			const json = { 'Content-Type': 'application/json' };
			const rows = [
				['400 malformed JSON', () => request('POST', ev, { body: '{"event": "add",', headers: json }), 400],
				['400 not an object', () => request('POST', ev, { body: '[1,2]', headers: json }), 400],
				['400 no event', () => request('POST', ev, { body: '{"payload":{}}', headers: json }), 400],
				['404 unknown route below a route', () => get(`${base}state/${topic}/extra`), 404],
				['404 unknown topic (init_state says none)', () => get(`${base}state/other:${process.pid}`), 404],
				['404 POST to an unknown topic', () => post(`${base}events/other:${process.pid}`, { event: 'add', payload: { name: 'x' } }), 404],
				['405 GET /events', () => get(ev), 405],
				['405 POST /state', () => request('POST', `${base}state/${topic}`, { body: '{}', headers: json }), 405],
				['405 DELETE /state', () => request('DELETE', `${base}state/${topic}`), 405],
				['413 body over the limit', () => request('POST', ev, {
					body: JSON.stringify({ event: 'add', payload: { name: 'x'.repeat(BODY_LIMIT + 10) } }), headers: json }), 413],
				['415 not JSON', () => request('POST', ev, { body: 'event=add', headers: { 'Content-Type': 'application/x-www-form-urlencoded' } }), 415],
				['422 the app refuses (empty name)', () => addItem(base, topic, '   '), 422],
				['422 the app refuses (unknown event)', () => post(ev, { event: 'nope', payload: {} }), 422],
				['400 topic with a bad character', () => get(`${base}state/list:bad%20name`), 400],
				// Apache refuses an encoded slash itself (AllowEncodedSlashes
				// Off): a 404 of its own, which is fine.
				['400 topic with a slash', () => get(`${base}state/list:a%2Fb`), [400, 404], 'server may answer'],
				['400 topic too long', () => get(`${base}state/list:${'x'.repeat(201)}`), 400],
				['400 bad topic on POST', () => post(`${base}events/list:b%22ad`, { event: 'add', payload: { name: 'x' } }), 400],
				['400 bad topic on a stream', () => get(`${base}stream/list:b%3Cad`), 400],
				['400 bad topic in ?topic=', () => get(`${base}stream?topic=list:b%20ad`), 400],
				// Text that is not UTF-8, NUL where names are C strings, a
				// topic decoded twice.
				...[
					['overlong', Buffer.from([0xc0, 0xaf])],
					['a surrogate', Buffer.from([0xed, 0xa0, 0x80])],
					['past U+10FFFF', Buffer.from([0xf4, 0x90, 0x80, 0x80])],
					['truncated', Buffer.from([0xe2, 0x82])],
					['a lone escaped surrogate', Buffer.from('\\ud800')],
				].map(([what, bytes]) => [`400 ${what} in the body`, () => request('POST', ev, {
					body: Buffer.concat([Buffer.from('{"event":"add","payload":{"name":"'), bytes, Buffer.from('"}}')]),
					headers: json }), 400]),
				['400 NUL in the event name', () => request('POST', ev, { body: '{"event":"add\\u0000x","payload":{"name":"x"}}', headers: json }), 400],
				['400 NUL in the id', () => request('POST', ev, { body: '{"event":"add","id":"k\\u0000a","payload":{"name":"x"}}', headers: json }), 400],
				['400 NUL in a member name', () => request('POST', ev, { body: '{"event":"add","payload":{"na\\u0000me":"x"}}', headers: json }), 400],
				['400 NUL in the topic', () => get(`${base}state/list:a%00b`), [400, 404], 'server may answer'],
				['400 a topic decoded twice', () => get(`${base}state/list:%2541`), [400, 404], 'server may answer'],
			];
			if (new URL(base).pathname !== '/') {
				// Mounted at a prefix, everything below it is the app's.
				rows.push(['404 unknown route', () => get(`${base}nothing/${topic}`), 404]);
			}
			for (const [what, fn, status, lenient] of rows) {
				const r = await fn();
				const want = Array.isArray(status) ? status : [status];
				assert.ok(want.includes(r.status), `${what}: status ${r.status} ${r.text.slice(0, 200)}`);
				if (lenient && !/json/.test(r.headers['content-type'] || '')) continue;
				assertJsonError(r, r.status, what);
			}
			const r = await addItem(base, topic, '');
			assert.equal(r.json.error.code, 'bad_name');
			const g = await get(`${base}state/${topic}`);
			assert.equal(g.json.version, 1, 'no bad request changed the topic');
			assert.deepEqual(g.json.state.items.map((i) => i.name), ['keep']);
		});

		t('every answer has nosniff; the web server\'s own errors are JSON errors too', async () => {
			const topic = newTopic();
			for (const r of [await get(`${base}state/${topic}`), await post(`${base}events/${topic}`, { event: 'nope' })]) {
				assert.match(r.headers['x-content-type-options'] || '', /nosniff/, `nosniff on ${r.status}`);
			}
			const st = await stream(`stream/${topic}`);
			assert.match(st.headers['x-content-type-options'] || '', /nosniff/, 'nosniff on a stream');
			st.close();
			// A path the server answers itself (not the app's).
			const u = new URL(base);
			const nf = await get(`${u.origin}/no-such-file-${process.pid}.txt`);
			assertJsonError(nf, 404, 'the server\'s own 404');
			assert.equal(nf.json.error.source, 'web_server');
			// A body over the server's own limit, refused from its
			// Content-Length alone (Apache only counts what it reads,
			// and its FastCGI modules then fail the request as they
			// read: no answer of its own to check).
			if (s.kind.startsWith('apache')) return;
			const big = await rawRequest(u.port, `POST ${u.pathname}events/${topic} HTTP/1.1\r\n`
				+ `Host: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: ${8 << 20}\r\n`
				+ 'Connection: close\r\n\r\n');
			assert.equal(big.status, 413, big.text.slice(0, 300));
			assert.match(big.headers['content-type'] || '', /^application\/json/, big.text.slice(0, 300));
			assert.equal(JSON.parse(big.body).error.source, 'web_server');
		});

		t('a GET or stream of a topic never written stores nothing; the first event creates it', async () => {
			const topic = newTopic('ghost');
			const topics = () => s.cli(['topics']).stdout;
			for (let i = 0; i < 3; i++) {
				const r = await get(`${base}state/${topic}`);
				assert.equal(r.status, 200);
				assert.equal(r.json.version, 0);
			}
			const st = await stream(`stream/${topic}`);
			await st.frameCount(1);
			assert.equal(st.frames[0].json.version, 0);
			assert.ok(!topics().includes(`"${topic}"`), 'not stored by reads');
			const r = await addItem(base, topic, 'first');
			assert.equal(r.json.version, 1);
			await st.frameCount(2);
			assert.equal(st.frames[1].json.version, 1);
			assert.ok(topics().includes(`"${topic}"`), 'stored by the event');
			st.close();
		});

		t('the routes sit below the mount point, and nothing else does', async () => {
			const u = new URL(base);
			assert.equal(u.pathname, options.prefix ?? u.pathname);
			const r = await get(`${base}state/${newTopic()}`);
			assert.equal(r.status, 200);
			if (u.pathname !== '/') {
				const outside = await get(`${u.origin}/state/${newTopic()}`);
				assert.notEqual(outside.status, 200, 'the app is not at the site root');
			}
		});

		t(`a client that goes away frees its stream (${nStreams} streams opened and closed)`, async (ctx) => {
			const topic = newTopic();
			const pids = s.appPids();
			const fds0 = pids.map(fdCount);
			const round = async () => {
				const sts = await Promise.all(Array.from({ length: nStreams }, () => stream(`stream/${topic}`)));
				await Promise.all(sts.map((x) => x.frameCount(1, 20000)));
				for (const x of sts) assert.equal(x.frames[0].event, 'state');
				for (const x of sts) x.close();
			};
			await round();
			// The app notices at once (or at the next heartbeat at worst).
			const t0 = Date.now();
			const settled = () => {
				const now = s.appPids();
				if (now.join() !== pids.join()) return true; // spawned/ended: cannot compare
				return now.every((p, i) => fdCount(p) <= fds0[i] + 2);
			};
			while (!settled() && Date.now() - t0 < HEARTBEAT * 2000 + 5000) await sleep(100);
			assert.ok(settled(), `app fds ${s.appPids().map(fdCount)} vs before ${fds0}`);
			ctx.diagnostic(`streams freed ${Date.now() - t0} ms after the clients left`);
			// ...and serves as before: a second round of streams, a POST.
			await round();
			const r = await addItem(base, topic, 'after');
			assert.equal(r.status, 200, r.text);
		});

		t('the eventsource package: resumes with Last-Event-ID after the connection drops, nothing lost or twice', async () => {
			const topic = newTopic();
			let first = true;
			let drop;
			// The first connection fails like a network drop after its
			// first frames (its body errors; the socket is closed).
			const fetchFn = async (url, init) => {
				const res = await fetch(url, init);
				if (!first) return res;
				first = false;
				const reader = res.body.getReader();
				let ctl;
				const body = new ReadableStream({
					start(c) { ctl = c; },
					async pull(c) {
						try {
							const { value, done } = await reader.read();
							if (done) c.close(); else c.enqueue(value);
						} catch { /* dropped */ }
					},
				});
				drop = () => {
					ctl.error(new TypeError('network connection lost'));
					reader.cancel().catch(() => {});
				};
				return new Response(body, { status: res.status, headers: res.headers });
			};
			const es = new EventSource(`${base}stream/${topic}`, { fetch: fetchFn });
			const got = [];
			const errors = [];
			es.addEventListener('state', (e) => got.push(['state', e.lastEventId, JSON.parse(e.data).version]));
			es.addEventListener('patch', (e) => got.push(['patch', e.lastEventId, JSON.parse(e.data).version]));
			es.onerror = () => errors.push(Date.now());
			try {
				const wait = async (n) => {
					const end = Date.now() + 15000;
					while (got.length < n && Date.now() < end) await sleep(25);
					assert.ok(got.length >= n, `${n} events, got ${JSON.stringify(got)}`);
				};
				await wait(1);
				const a = (await addItem(base, topic, 'a')).json;
				await wait(2);
				drop();
				const missed = [];
				for (const n of ['b', 'c']) missed.push((await addItem(base, topic, n)).json);
				await wait(4);
				await sleep(300);
				assert.ok(errors.length >= 1, 'the drop was seen');
				assert.deepEqual(got, [
					['state', got[0][1], 0],
					['patch', a.cursor, 1],
					...missed.map((m) => ['patch', m.cursor, m.version]),
				]);
			} finally {
				es.close();
			}
		});
	});
}

// Prunes every log row of topic as retention does (schema.sql: the rows
// go, the topic's floor moves up to the highest seq pruned).  Returns
// false when the schema is not the one expected.
function pruneLog(db, topic, user) {
	const q = (sql) => {
		const cmd = user ? ['setpriv', '--reuid', user, '--regid', user, '--clear-groups', 'sqlite3'] : ['sqlite3'];
		return spawnSync(cmd[0], [...cmd.slice(1), '-cmd', '.timeout 5000', db, sql], { encoding: 'utf8' });
	};
	const cols = q('SELECT name FROM pragma_table_info(\'topics\')').stdout.split('\n');
	if (!cols.includes('floor')) return false;
	const t = topic.replace(/'/g, "''");
	const r = q(`BEGIN IMMEDIATE; UPDATE topics SET floor = (SELECT max(seq) FROM log WHERE topic = '${t}') WHERE name = '${t}'; DELETE FROM log WHERE topic = '${t}'; COMMIT;`);
	assert.equal(r.status, 0, `prune: ${r.stderr}`);
	return true;
}
