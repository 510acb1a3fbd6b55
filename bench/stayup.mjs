// The "stay up" figures (prints them, asserts nothing), through lighttpd
// and the shipped template, each with its baseline in the same run:
//   1. GET/POST latency (p50, p99) of small topics alone, then while 8
//      clients ask for a big state (STATE_MB, default 8) and never read;
//      the app's memory before and during.
//   2. GET/POST latency while clients hold every stream the app allows
//      (--max-streams) and keep asking for more (503 + Retry-After).
//   3. topics created by 10 s of GETs (and streams) of names never used.
//   4. lighttpd killed (SIGKILL) and started again at once: time until
//      GET answers 200 again, and whether the old app processes exited.
//   5. lighttpd's memory while 4 clients trickle POST bodies a byte at a
//      time for TRICKLE_S seconds (default 8): the template, and the same
//      with server.stream-request-body = 0 (lighttpd buffers bodies).
//   node bench/stayup.mjs BUILD_DIR
// Environment: STATE_MB=8, SLOW=8, PROBES=300 (requests per latency
// figure), CAP=200 (--max-streams per process), PROCS=2.
import { spawnSync } from 'node:child_process';
import http from 'node:http';
import net from 'node:net';

import { running, Site, sleep, usage } from '../scripts/lighttpd-harness.mjs';

const B = process.argv[2] || 'build';
const STATE_MB = Number(process.env.STATE_MB || 8);
const SLOW = Number(process.env.SLOW || 8);
const PROBES = Number(process.env.PROBES || 300);
const CAP = Number(process.env.CAP || 200);
const PROCS = Number(process.env.PROCS || 2);
const TRICKLE_S = Number(process.env.TRICKLE_S || 8);

const site = new Site(B, 'stayup', { MAX_STREAMS: CAP, PROCS });
const rssMb = (pids) => (pids.reduce((a, p) => a + Math.max(0, usage(p).rss_kb), 0) / 1024).toFixed(1);
const request = (method, p, body, timeout) => site.request(method, p, body, timeout);

const pct = (xs, q) => {
	const s = [...xs].sort((a, b) => a - b);
	return s.length ? s[Math.min(s.length - 1, Math.floor(q * s.length))] : NaN;
};
// PROBES GETs and POSTs (4 at a time) on small topics: p50/p99 ms, failures.
async function probe(tag) {
	const lat = [];
	let bad = 0;
	let n = 0;
	const one = async () => {
		while (n < PROBES) {
			const i = n++;
			const r = i % 2
				? await request('GET', `/state/list:probe${i % 8}`)
				: await request('POST', `/events/list:probe${i % 8}`, JSON.stringify({ event: 'add', payload: { name: `p${i}` } }));
			if (r.status !== 200) bad++;
			lat.push(r.ms);
		}
	};
	await Promise.all([one(), one(), one(), one()]);
	return { tag, p50: pct(lat, 0.5).toFixed(1), p99: pct(lat, 0.99).toFixed(1), max: Math.max(...lat).toFixed(1), failed: bad };
}
const show = (r) => `${r.tag}: p50 ${r.p50} ms, p99 ${r.p99} ms, max ${r.max} ms, failed ${r.failed}/${PROBES}`;

// A client that asks for path and never reads the answer.
function slowReader(p) {
	const s = net.connect(site.port, '127.0.0.1');
	s.on('connect', () => {
		s.write(`GET ${p} HTTP/1.1\r\nHost: x\r\n\r\n`);
		s.pause();
	});
	s.on('error', () => {});
	return s;
}

async function main() {
	// The big state, written with the statechannel command.
	const item = { id: 'i0000000', name: 'x'.repeat(60), quantity: 1, bought: false };
	const n = Math.ceil((STATE_MB * 1e6) / (JSON.stringify(item).length + 1));
	const big = JSON.stringify({ items: Array.from({ length: n }, (_, i) => ({ ...item, id: `i${i}` })), next_id: n + 1 });
	const set = spawnSync(site.cli, ['--db', site.db, 'set', 'list:big', '-'], { input: big, stdio: ['pipe', 'ignore', 'pipe'] });
	if (set.status !== 0) throw new Error(`set: ${set.stderr}`);
	await site.start();
	const g = await request('GET', '/state/list:big');
	console.log(`stayup: lighttpd, ${PROCS} app processes, big state ${(big.length / 1e6).toFixed(1)} MB (GET ${g.status}, ${g.ms.toFixed(0)} ms)`);

	// 1. slow readers of the big state
	await probe('warm-up');
	const base = await probe('alone');
	const rss0 = rssMb(site.appPids());
	const slow = Array.from({ length: SLOW }, () => slowReader('/state/list:big'));
	await sleep(1500);
	const during = await probe(`${SLOW} slow readers of the big state`);
	const rss1 = rssMb(site.appPids());
	console.log(`1. ${show(base)}`);
	console.log(`   ${show(during)}`);
	console.log(`   p99 ratio (slow readers / alone): ${(during.p99 / base.p99).toFixed(2)}; app RSS ${rss0} -> ${rss1} MB`);
	for (const s of slow) s.destroy();

	// 2. streams held at the cap, and more asked for
	const holders = [];
	let refused = 0;
	let retryAfter = '';
	const openOne = () => new Promise((resolve) => {
		const req = http.get({ host: '127.0.0.1', port: site.port, path: '/stream/list:held', agent: false }, (res) => {
			if (res.statusCode === 200) {
				holders.push(req);
			} else {
				refused++;
				retryAfter = res.headers['retry-after'] || retryAfter;
				res.resume();
			}
			resolve();
		});
		req.on('error', () => resolve());
	});
	const want = CAP * PROCS + 100;
	for (let i = 0; i < want; i += 50) await Promise.all(Array.from({ length: Math.min(50, want - i) }, openOne));
	let pressing = true;
	const press = (async () => { while (pressing) { await openOne(); await sleep(20); } })();
	const capped = await probe(`${holders.length} streams held, more refused`);
	pressing = false;
	await press;
	console.log(`2. ${show(capped)}`);
	console.log(`   ${holders.length} of ${want} streams open (cap ${CAP} x ${PROCS}), ${refused} refused with 503 (Retry-After: ${retryAfter}); p99 ratio (held / alone): ${(capped.p99 / base.p99).toFixed(2)}`);
	for (const h of holders) h.destroy();

	// 3. reads of names never used
	const topics0 = spawnSync(site.cli, ['--db', site.db, 'topics'], { encoding: 'utf8' }).stdout.split('\n').filter(Boolean).length;
	let reads = 0;
	const t3 = Date.now();
	await Promise.all(Array.from({ length: 8 }, async (_, w) => {
		while (Date.now() - t3 < 10000) {
			const r = await request('GET', `/state/list:made-up-${w}-${reads++}`);
			if (r.status !== 200) throw new Error(`GET ${r.status}`);
		}
	}));
	const topics1 = spawnSync(site.cli, ['--db', site.db, 'topics'], { encoding: 'utf8' }).stdout.split('\n').filter(Boolean).length;
	console.log(`3. ${reads} GETs of made-up names in 10 s: topics ${topics0} -> ${topics1} (created: ${topics1 - topics0})`);

	// 4. lighttpd killed and started again
	const old = site.appPids();
	site.agent.destroy();
	const t4 = performance.now();
	process.kill(site.lighttpd.pid, 'SIGKILL');
	await site.start();
	let back = -1;
	while (performance.now() - t4 < 30000) {
		const r = await request('GET', '/state/list:probe1', undefined, 2000);
		if (r.status === 200) { back = performance.now() - t4; break; }
		await sleep(20);
	}
	if (back < 0) console.log(`   not back in 30 s: lighttpd ${site.lighttpd.exitCode === null ? 'running' : `exited ${site.lighttpd.exitCode}`}, app processes ${site.appPids()}`);
	await sleep(2000);
	const left = old.filter(running); // a zombie has exited
	console.log(`4. lighttpd SIGKILLed and restarted: GET 200 again after ${back.toFixed(0)} ms; old app processes still running 2 s later: ${left.length} of ${old.length}`);
	// 5. trickled bodies
	const trickle = async (t) => {
		const socks = Array.from({ length: 4 }, () => {
			const k = net.connect(t.port, '127.0.0.1');
			k.setNoDelay(true);
			k.on('error', () => {});
			k.write('POST /events/list:trickle HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 60000\r\n\r\n');
			return k;
		});
		const rss0 = usage(t.lighttpd.pid).rss_kb;
		const t5 = Date.now();
		let sent = 0;
		while (Date.now() - t5 < TRICKLE_S * 1000 && sent < 60000) {
			for (const k of socks) if (!k.destroyed) k.write(' ');
			sent++;
			await sleep(1);
		}
		const rss1 = usage(t.lighttpd.pid).rss_kb;
		for (const k of socks) k.destroy();
		return `${sent} bytes x 4 connections: lighttpd RSS ${(rss0 / 1024).toFixed(1)} -> ${(rss1 / 1024).toFixed(1)} MB`;
	};
	const buffered = new Site(B, 'stayup-buffered', { PROCS: 1 },
		(text) => text.replace('server.stream-request-body = 2', 'server.stream-request-body = 0'));
	await buffered.start();
	console.log(`5. trickled bodies, the template (stream-request-body 2): ${await trickle(site)}`);
	console.log(`   the same, bodies buffered (stream-request-body 0): ${await trickle(buffered)}`);
	process.exit(0);
}

main().catch((e) => {
	console.error(e);
	process.exit(1);
});
