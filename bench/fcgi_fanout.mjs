// Fan-out measurement for bench/fcgi.sh: opens N Server-Sent Events
// streams (raw HTTP, no EventSource overhead), waits until every one is
// live, publishes one message, and times until every subscriber has it.
// Does it --rounds times (default 3) and prints one JSON line with the
// median round: {n, rounds, open_ms, p50_ms, p99_ms, max_ms, missing,
// rounds_p99, rss0_kb, rss_kb, per_stream_bytes}.
//   node fcgi_fanout.mjs --sub URL --n N --pub-url URL --pub-body TEXT
//        [--pub-type CT] [--pids P1,P2] [--ready TEXT] [--rounds R]
// The body's MARKXXXXXXXX is replaced by a marker of the same length,
// new each round; a subscriber has the message once the marker arrives.
// --ready TEXT: a stream counts as live once TEXT arrived on it (the
// app's first "state" frame); else once its response headers are in.
import http from 'node:http';
import fs from 'node:fs';
import { performance } from 'node:perf_hooks';

const args = {};
for (let i = 2; i < process.argv.length; i += 2) args[process.argv[i].replace(/^--/, '')] = process.argv[i + 1];
const N = Number(args.n);
const pids = (args.pids || '').split(',').filter(Boolean).map(Number);
let marker = '';
const ROUNDS = Number(args.rounds || 3);
const ready = args.ready;
const agent = new http.Agent({ keepAlive: false, maxSockets: Infinity });

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
function rssKb() {
	let kb = 0;
	for (const p of pids) {
		try {
			const m = /VmRSS:\s+(\d+)/.exec(fs.readFileSync(`/proc/${p}/status`, 'utf8'));
			if (m) kb += Number(m[1]);
		} catch { /* gone */ }
	}
	return kb;
}

const subs = [];
let t0 = 0;
let got = 0;
let onAll = () => {};

function open(i) {
	return new Promise((resolve, reject) => {
		const s = { buf: '', live: false, at: -1 };
		subs[i] = s;
		const req = http.get(args.sub, { agent, headers: { Accept: 'text/event-stream' } }, (res) => {
			if (res.statusCode !== 200) {
				reject(new Error(`subscriber ${i}: HTTP ${res.statusCode}`));
				res.resume();
				return;
			}
			res.setEncoding('utf8');
			if (!ready) { s.live = true; resolve(); }
			res.on('data', (t) => {
				if (s.at >= 0) return;
				s.buf += t;
				if (!s.live && s.buf.includes(ready) && /\n\n/.test(s.buf.slice(s.buf.indexOf(ready)))) {
					s.live = true;
					s.buf = s.buf.slice(s.buf.lastIndexOf('\n\n'));
					resolve();
				}
				if (t0 && s.at < 0 && s.buf.includes(marker)) {
					s.at = performance.now() - t0;
					s.buf = '';
					if (++got === N) onAll();
				} else if (s.buf.length > 4 * marker.length + 65536) {
					s.buf = s.buf.slice(-2 * marker.length);
				}
			});
			res.on('error', () => {});
		});
		req.on('error', reject);
		s.req = req;
	});
}

const rss0 = rssKb();
const tOpen = performance.now();
let next = 0;
const workers = Array.from({ length: Math.min(200, N) }, async () => {
	while (next < N) await open(next++);
});
await Promise.all(workers);
const openMs = performance.now() - tOpen;
await sleep(Math.min(3000, 300 + N / 5));
const rss = rssKb();

const r1 = (x) => Math.round(x * 10) / 10;
const results = [];
// Round 0 warms up (first-use costs on both sides) and is not counted.
for (let round = 0; round <= ROUNDS; round++) {
	marker = `MK${String(Date.now() % 1e9).padStart(9, '0')}${round % 10}`;
	const body = args['pub-body'].replace('MARKXXXXXXXX', marker);
	got = 0;
	for (const s of subs) { s.at = -1; s.buf = ''; }
	const done = new Promise((r) => { onAll = r; });
	t0 = performance.now();
	await new Promise((resolve, reject) => {
		const req = http.request(args['pub-url'], {
			method: 'POST', agent,
			headers: { 'Content-Type': args['pub-type'] || 'application/json', 'Content-Length': Buffer.byteLength(body) },
		}, (res) => {
			res.resume();
			res.on('end', () => (res.statusCode < 300 ? resolve() : reject(new Error(`publish: HTTP ${res.statusCode}`))));
		});
		req.on('error', reject);
		req.end(body);
	});
	await Promise.race([done, sleep(30000)]);
	const times = subs.map((s) => s.at).filter((x) => x >= 0).sort((a, b) => a - b);
	const pct = (p) => (times.length ? times[Math.min(times.length - 1, Math.ceil((p / 100) * times.length) - 1)] : NaN);
	if (round > 0) results.push({ p50: pct(50), p99: pct(99), max: times[times.length - 1], missing: N - times.length });
	t0 = 0;
	await sleep(500);
}
for (const s of subs) s.req.destroy();
const med = [...results].sort((a, b) => a.p99 - b.p99)[Math.floor(results.length / 2)];
console.log(JSON.stringify({
	n: N,
	rounds: ROUNDS,
	open_ms: Math.round(openMs),
	p50_ms: r1(med.p50),
	p99_ms: r1(med.p99),
	max_ms: r1(med.max),
	missing: Math.max(...results.map((x) => x.missing)),
	rounds_p99: results.map((x) => r1(x.p99)),
	rss0_kb: rss0,
	rss_kb: rss,
	per_stream_bytes: pids.length ? Math.round(((rss - rss0) * 1024) / N) : null,
}));
process.exit(0);
