// The store on PostgreSQL (--db postgresql://...), with a server of the
// tests' own (lib/postgres.js): two hosts on one machine (two lighttpd,
// each with its own app processes, no shared file) share one database;
// PostgreSQL restarted under load; a bad connection string; app
// processes killed under load.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';

import { get, openStream, post } from './lib/http.js';
import { startPostgres } from './lib/postgres.js';
import { APP, startLighttpd } from './lib/servers.js';

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

const patches = (s) => s.frames.filter((f) => f.event === 'patch');
const versions = (s) => patches(s).map((f) => f.json.version);
const range = (a, b) => Array.from({ length: b - a + 1 }, (_, i) => a + i);

// The app processes lighttpd started (children of its process).
function appChildren(server) {
	const exe = fs.realpathSync(APP);
	const lighttpd = server.children.map((c) => c.pid);
	const out = [];
	for (const p of fs.readdirSync('/proc')) {
		if (!/^\d+$/.test(p)) continue;
		try {
			const ppid = Number(fs.readFileSync(`/proc/${p}/stat`, 'utf8').replace(/^.*\) /s, '').split(' ')[1]);
			if (lighttpd.includes(ppid) && fs.readlinkSync(`/proc/${p}/exe`) === exe) out.push(Number(p));
		} catch { /* gone */ }
	}
	return out;
}

async function stopAll(servers) {
	for (const s of servers) {
		if (!s) continue;
		await s.stop();
		assert.deepEqual(s.lastReports, [], `sanitizer or crash reports:\n${s.lastLogs}`);
	}
}

describe('two hosts sharing one PostgreSQL', () => {
	let pg;
	let a;
	let b;
	before(async () => {
		pg = await startPostgres();
		const uri = await pg.newDb('hosts');
		a = await startLighttpd({ procs: 2, db: uri });
		b = await startLighttpd({ procs: 2, db: uri });
	});
	after(async () => {
		await stopAll([a, b]);
		if (pg) await pg.clean();
	});

	test('a POST through host A reaches a stream held by host B', async () => {
		const topic = `list:ab-${process.pid}`;
		const s = await openStream(`${b.base}stream/${topic}`);
		try {
			assert.equal(s.status, 200, s.raw);
			await s.until((x) => x.frames.some((f) => f.event === 'state'), 10000, 'the state frame');
			const r = await post(`${a.base}events/${topic}`, { event: 'add', payload: { name: 'Milk' } });
			assert.equal(r.status, 200, r.text);
			await s.until((x) => patches(x).length >= 1, 10000, 'the patch from host A');
			assert.equal(patches(s)[0].json.version, r.json.version);
			assert.equal(patches(s)[0].id, r.json.cursor);
		} finally {
			s.close();
		}
	});

	test('a browser moving from A to B with its Last-Event-ID gets exactly what it missed', async () => {
		const topic = `list:move-${process.pid}`;
		const s1 = await openStream(`${a.base}stream/${topic}`);
		let last;
		try {
			await s1.until((x) => x.frames.some((f) => f.event === 'state'), 10000, 'the state frame');
			for (let i = 0; i < 3; i++) {
				const h = i % 2 ? b : a;
				const r = await post(`${h.base}events/${topic}`, { event: 'add', payload: { name: `seen ${i}` } });
				assert.equal(r.status, 200, r.text);
			}
			await s1.until((x) => patches(x).length >= 3, 10000, 'three patches on A');
			last = patches(s1).at(-1).id;
		} finally {
			s1.close();
		}
		const missed = [];
		for (let i = 0; i < 2; i++) {
			const r = await post(`${a.base}events/${topic}`, { event: 'add', payload: { name: `missed ${i}` } });
			assert.equal(r.status, 200, r.text);
			missed.push(r.json);
		}
		const s2 = await openStream(`${b.base}stream/${topic}`, { headers: { 'Last-Event-ID': last } });
		try {
			await s2.until((x) => patches(x).length >= 2, 10000, 'the two missed patches on B');
			const r = await post(`${b.base}events/${topic}`, { event: 'add', payload: { name: 'after' } });
			assert.equal(r.status, 200, r.text);
			await s2.until((x) => patches(x).length >= 3, 10000, 'the next patch on B');
			assert.equal(s2.frames.filter((f) => f.event === 'state').length, 0, s2.describe());
			assert.deepEqual(versions(s2), [4, 5, 6]);
			assert.deepEqual(patches(s2).slice(0, 2).map((f) => f.id), missed.map((m) => m.cursor));
		} finally {
			s2.close();
		}
	});

	test('statechannel --db postgresql://... changes reach the streams of both hosts', async () => {
		const topic = `list:cli-${process.pid}`;
		const sa = await openStream(`${a.base}stream/${topic}`);
		const sb = await openStream(`${b.base}stream/${topic}`);
		try {
			for (const s of [sa, sb]) await s.until((x) => x.frames.some((f) => f.event === 'state'), 10000, 'state');
			const r = a.cli(['set', topic, '-'], JSON.stringify({ items: [{ id: 'x', name: 'From the CLI', quantity: 1, bought: false }] }));
			assert.equal(r.status, 0, r.stderr);
			for (const s of [sa, sb]) await s.until((x) => patches(x).length >= 1, 10000, 'the CLI patch');
			for (const s of [sa, sb]) assert.equal(patches(s)[0].json.version, JSON.parse(r.stdout).version);
			const st = await get(`${b.base}state/${topic}`);
			assert.equal(st.json.state.items[0].name, 'From the CLI');
		} finally {
			sa.close();
			sb.close();
		}
	});
});

describe('PostgreSQL faults', () => {
	let pg;
	let a;
	let b;
	let uri;
	before(async () => {
		pg = await startPostgres();
		uri = await pg.newDb('faults');
		a = await startLighttpd({ procs: 2, db: uri });
		b = await startLighttpd({ procs: 2, db: uri });
	});
	after(async () => {
		await stopAll([a, b]);
		if (pg) await pg.clean();
	});

	test('a bad connection string or a refused login is a clear error at start: exit 1, no password shown', () => {
		const host = new URL(`http://x/${uri.split('?')[1] ? `?${uri.split('?')[1]}` : ''}`).searchParams.get('host');
		for (const bad of [
			`postgresql://sc:s3cret@/no_such_db?host=${host}`,
			`postgresql://nobody_here:s3cret@/statechannel?host=${host}`,
			'postgresql://sc:s3cret@/statechannel?host=/nonexistent-dir',
			'postgres://sc:s3cret@[::1',
		]) {
			const sock = path.join(pg.dir, 'never.sock');
			const r = spawnSync(APP, ['--db', bad, '--listen', sock], { encoding: 'utf8', timeout: 20000 });
			assert.equal(r.status, 1, `${bad}: ${r.stderr}`);
			assert.match(r.stderr, /cannot connect|invalid/, r.stderr);
			assert.doesNotMatch(r.stderr + r.stdout, /s3cret/);
		}
	});

	test('PostgreSQL stopped and restarted (immediate) under load: 503 with Retry-After, no hang, back by itself, streams lose and double nothing', async () => {
		const topic = `list:restart-${process.pid}`;
		const sa = await openStream(`${a.base}stream/${topic}`);
		const sb = await openStream(`${b.base}stream/${topic}`);
		let stop = false;
		const acked = [];
		const refused = [];
		let slowest = 0;
		let back = null;
		let downAt = 0;
		try {
			for (const s of [sa, sb]) await s.until((x) => x.frames.some((f) => f.event === 'state'), 10000, 'state');
			const load = (async () => {
				for (let i = 0; !stop; i++) {
					const h = i % 2 ? b : a;
					const t0 = Date.now();
					const r = await post(`${h.base}events/${topic}`, { event: 'add', payload: { name: `n${i}` } });
					slowest = Math.max(slowest, Date.now() - t0);
					if (r.status === 200) {
						acked.push(r.json.version);
						if (downAt && back === null) back = Date.now() - downAt;
					} else {
						assert.equal(r.status, 503, r.text);
						assert.ok(r.headers['retry-after'], `a 503 without Retry-After: ${r.text}`);
						refused.push(r.json && r.json.error && r.json.error.code);
					}
					await sleep(10);
				}
			})();
			await sleep(500);
			await pg.stop('immediate');
			await sleep(1500);
			await pg.start();
			downAt = Date.now();
			const end = Date.now() + 20000;
			while (back === null && Date.now() < end) await sleep(50);
			assert.notEqual(back, null, 'POSTs succeed again once PostgreSQL is back');
			const firstBack = back;
			// And pg_ctl restart -m immediate, with no pause of ours.
			await sleep(300);
			back = null;
			downAt = 0;
			await pg.restart('immediate');
			downAt = Date.now();
			const end2 = Date.now() + 20000;
			while (back === null && Date.now() < end2) await sleep(50);
			assert.notEqual(back, null, 'POSTs succeed again after pg_ctl restart -m immediate');
			await sleep(500);
			stop = true;
			await load;
			assert.ok(refused.length > 0, 'some POSTs were refused while PostgreSQL was down');
			assert.ok(slowest < 10000, `a POST took ${slowest} ms`);
			const top = Math.max(...acked);
			for (const s of [sa, sb]) {
				await s.until((x) => versions(x).includes(top), 15000, `version ${top} on the stream`);
				// Every version once, in order: nothing lost, nothing doubled.
				assert.deepEqual(versions(s), range(1, top));
			}
			console.log(`restart: ${acked.length} events answered, ${refused.length} refused (503), first success ${firstBack} ms after PostgreSQL was up (stop + start), ${back} ms (restart -m immediate)`);
		} finally {
			stop = true;
			sa.close();
			sb.close();
		}
	});

	test('app processes killed (SIGKILL) under load: every answered event is kept', async () => {
		const topic = `list:kill-${process.pid}`;
		let stop = false;
		const acked = [];
		const load = (async () => {
			for (let i = 0; !stop; i++) {
				const h = i % 2 ? b : a;
				const name = `k${i}`;
				let r;
				try {
					r = await post(`${h.base}events/${topic}`, { event: 'add', payload: { name } });
				} catch { continue; } // the connection died with the app
				if (r.status === 200) acked.push(name);
			}
		})();
		let kills = 0;
		for (let round = 0; round < 4; round++) {
			await sleep(150 + 100 * round);
			for (const h of [a, b]) {
				for (const p of appChildren(h)) {
					try { process.kill(p, 'SIGKILL'); kills += 1; } catch { /* gone */ }
				}
			}
		}
		await sleep(1000);
		stop = true;
		await load;
		assert.ok(kills > 0, 'app processes were killed');
		assert.ok(acked.length > 0, 'events were answered');
		// lighttpd spawns the killed processes again by itself; until
		// then it answers 503 (its own JSON error).
		let st = await get(`${b.base}state/${topic}`);
		for (let i = 0; i < 100 && st.status === 503; i++) {
			await sleep(100);
			st = await get(`${b.base}state/${topic}`);
		}
		assert.equal(st.status, 200, st.text);
		const names = new Set(st.json.state.items.map((it) => it.name));
		for (const n of acked) assert.ok(names.has(n), `answered event ${n} is in the state`);
		console.log(`kill -9: ${kills} app processes killed, ${acked.length} answered events all kept`);
	});
});
