// The soak test, run by hand (not part of make test): mixed traffic through
// lighttpd and the shipped template for SOAK_SECONDS (default 1800):
//   * WRITERS writers POST "rename" events (each writer renames items of
//     its own, so the states stay the same size and memory growth means
//     a leak) with idempotency ids to a few topics, retrying the same id
//     on anything but the app's own answer;
//   * FOLLOWERS followers hold streams, apply every patch with the client's
//     applyPatch, and drop and resume (Last-Event-ID) every few seconds;
//     short-lived streams open and close besides them;
//   * GETs of the topics and of names never used;
//   * one app process SIGKILLed every KILL_EVERY seconds (lighttpd starts
//     a new one); the oldest is spared, so one lives through the run.
// Prints the RSS and fd count of every process (lighttpd and the app's)
// after WARMUP seconds and at the end, and checks that no acknowledged
// event was lost or applied twice and that every follower ends equal to
// the stored state.  Exit status 0 when those checks hold.
//   node scripts/soak.mjs BUILD_DIR     (SC_KEEP=1 keeps the temp dir)
import fs from 'node:fs';
import http from 'node:http';

import { applyPatch, jsonEqual } from '../client/src/patch.js';
import { Site, sleep, usage } from './lighttpd-harness.mjs';

const SECONDS = Number(process.env.SOAK_SECONDS || 1800);
const WARMUP = Number(process.env.WARMUP || Math.min(60, SECONDS / 5));
const KILL_EVERY = Number(process.env.KILL_EVERY || 180);
const WRITERS = Number(process.env.WRITERS || 4);
const FOLLOWERS = Number(process.env.FOLLOWERS || 12);
const TOPICS = ['list:soak-a', 'list:soak-b', 'list:soak-c'];

const site = new Site(process.argv[2] || 'build', 'soak', { HEARTBEAT: 5 });
const request = (method, p, body) => site.request(method, p, body);
let running = true;

function snapshot(tag) {
	const rows = [{ who: 'lighttpd', ...usage(site.lighttpd.pid) }, ...site.appPids().map((p) => ({ who: 'app', ...usage(p) }))];
	console.log(`${tag}:`);
	for (const r of rows) console.log(`  ${r.who.padEnd(8)} pid ${String(r.pid).padStart(7)}  RSS ${(r.rss_kb / 1024).toFixed(1).padStart(6)} MB  fds ${r.fds}`);
	return rows;
}
process.on('SIGINT', () => process.exit(130));

// The app's own answer: 200, or its JSON error (not the web server's).
const appAnswered = (r) => r.status === 200 ||
	(r.status >= 400 && r.status < 500 && r.json && r.json.error && r.json.error.source !== 'web_server');

const ITEMS = 5; // per writer and topic
const acked = new Map(); // topic -> events acknowledged (setup included)
const lastName = new Map(); // "topic item" -> the last name acknowledged
const stats = { posts: 0, retries: 0, gets: 0, streams: 0, resumes: 0, kills: 0, refused: 0 };

// Sends one event until the app answers it; throws on the app's refusal.
async function send(topic, event, payload, id) {
	const body = JSON.stringify({ event, id, payload });
	for (;;) {
		const r = await request('POST', `/events/${topic}`, body);
		if (r.status === 200) {
			acked.set(topic, acked.get(topic) + 1);
			return;
		}
		if (appAnswered(r)) throw new Error(`the app refused ${id}: ${r.status} ${JSON.stringify(r.json)}`);
		stats.retries++;
		await sleep(100);
	}
}

async function writer(w) {
	let n = 0;
	while (running) {
		const topic = TOPICS[n % TOPICS.length];
		const item = `i${w * ITEMS + (n % ITEMS) + 1}`;
		const name = `w${w}-${n++}`;
		await send(topic, 'rename', { id: item, name }, name);
		lastName.set(`${topic} ${item}`, name);
		stats.posts++;
		await sleep(50 + Math.random() * 100);
	}
}

// A follower: one stream of one topic, its own copy of the state.
class Follower {
	constructor(topic) {
		this.topic = topic;
		this.state = null;
		this.version = -1;
		this.cursor = '';
		this.req = null;
		this.errors = [];
	}

	// Opens the stream; when it ends by itself (a killed app process, a
	// 503), opens it again a little later, from its cursor, as
	// EventSource does.
	open() {
		this.wanted = true;
		stats.streams++;
		if (this.cursor) stats.resumes++;
		const headers = this.cursor ? { 'Last-Event-ID': this.cursor } : {};
		let buf = '';
		let ev = { event: '', data: [], id: null };
		// Events of a stream dropped before are ignored (its close comes
		// late, after a new one may have opened).
		const req = http.get({ host: '127.0.0.1', port: site.port, path: `/stream/${this.topic}`, headers, agent: false }, (res) => {
			res.on('close', () => { if (req === this.req) this.again(); });
			if (res.statusCode !== 200) {
				if (res.statusCode === 503) stats.refused++;
				res.resume();
				return;
			}
			res.setEncoding('utf8');
			res.on('data', (d) => {
				if (req !== this.req) return;
				buf += d;
				let i;
				while ((i = buf.indexOf('\n')) >= 0) {
					const line = buf.slice(0, i).replace(/\r$/, '');
					buf = buf.slice(i + 1);
					if (line === '') {
						if (ev.data.length) this.frame(ev);
						ev = { event: '', data: [], id: null };
					} else if (line.startsWith('event: ')) ev.event = line.slice(7);
					else if (line.startsWith('data: ')) ev.data.push(line.slice(6));
					else if (line.startsWith('id: ')) ev.id = line.slice(4);
				}
			});
			res.on('error', () => {});
		});
		this.req = req;
		req.on('error', () => { if (req === this.req) this.again(); });
	}

	again() {
		if (!this.wanted || !running || this.pending) return;
		this.pending = setTimeout(() => {
			this.pending = null;
			if (this.wanted && running) this.open();
		}, 200 + Math.random() * 800);
	}

	frame(ev) {
		const d = JSON.parse(ev.data.join('\n'));
		if (ev.event === 'state') {
			this.state = d.state;
			this.version = d.version;
		} else if (ev.event === 'patch') {
			if (d.version !== this.version + 1) this.errors.push(`${this.topic}: patch ${d.version} after ${this.version}`);
			this.state = applyPatch(this.state, d.patch);
			this.version = d.version;
		}
		if (ev.id) this.cursor = ev.id;
	}

	drop() {
		this.wanted = false;
		clearTimeout(this.pending);
		this.pending = null;
		if (this.req) this.req.destroy();
		this.req = null;
	}
}

async function churn(followers) {
	while (running) {
		await sleep(1000 + Math.random() * 4000);
		const f = followers[Math.floor(Math.random() * followers.length)];
		f.drop();
		await sleep(Math.random() * 500);
		f.open();
		// Short-lived streams besides.
		const t = new Follower(TOPICS[Math.floor(Math.random() * TOPICS.length)]);
		t.open();
		setTimeout(() => t.drop(), 200 + Math.random() * 2000);
	}
}

async function readers() {
	let n = 0;
	while (running) {
		const r = await request('GET', n % 3 ? `/state/${TOPICS[n % TOPICS.length]}` : `/state/list:never-${n}`);
		if (r.status === 200) stats.gets++;
		n++;
		await sleep(100);
	}
}

async function killer() {
	let next = Date.now() + KILL_EVERY * 1000;
	while (running) {
		await sleep(500);
		if (Date.now() < next || !running) continue;
		next += KILL_EVERY * 1000;
		// The oldest process is spared, so that one lives through the
		// whole run and its memory tells whether anything leaks.
		const started = (pid) => {
			try { return Number(fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ')[19]); } catch { return 0; }
		};
		const pids = site.appPids().sort((a, b) => started(a) - started(b)).slice(1);
		if (pids.length === 0) continue;
		const p = pids[Math.floor(Math.random() * pids.length)];
		try { process.kill(p, 'SIGKILL'); stats.kills++; } catch { /* gone */ }
	}
}

async function main() {
	await site.start();
	for (let i = 0; i < 200 && (await request('GET', '/state/list:soak-a')).status !== 200; i++) await sleep(50);
	for (const t of TOPICS) {
		acked.set(t, 0);
		for (let i = 0; i < WRITERS * ITEMS; i++) await send(t, 'add', { name: `item ${i + 1}` }, `setup-${i}`);
	}
	console.log(`soak: ${SECONDS} s through lighttpd (2 app processes), ${WRITERS} writers, ${FOLLOWERS} followers, a kill every ${KILL_EVERY} s; dir ${site.dir}`);
	const followers = Array.from({ length: FOLLOWERS }, (_, i) => new Follower(TOPICS[i % TOPICS.length]));
	for (const f of followers) f.open();
	const tasks = [...Array.from({ length: WRITERS }, (_, w) => writer(w)), churn(followers), readers(), killer()];
	const t0 = Date.now();
	await sleep(WARMUP * 1000);
	const start = snapshot(`after warm-up (${WARMUP} s)`);
	while (Date.now() - t0 < SECONDS * 1000) {
		await sleep(Math.min(60000, SECONDS * 1000 - (Date.now() - t0)));
		console.log(`  ${Math.round((Date.now() - t0) / 1000)} s: ${JSON.stringify(stats)}`);
	}
	running = false;
	await Promise.all(tasks);
	running = true; // the followers resume until they have caught up
	for (const f of followers) if (!f.req || f.req.destroyed) f.open();
	const end = snapshot('end');
	// Every follower catches up; then compare.
	const finals = {};
	for (const t of TOPICS) finals[t] = (await request('GET', `/state/${t}`)).json;
	const deadline = Date.now() + 30000;
	while (Date.now() < deadline && followers.some((f) => f.version < finals[f.topic].version)) await sleep(200);
	let bad = 0;
	for (const t of TOPICS) {
		// One version per acknowledged event: none lost, none twice; and
		// each item holds the last name acknowledged for it.
		const wrong = finals[t].state.items.filter((i) => lastName.has(`${t} ${i.id}`) &&
			lastName.get(`${t} ${i.id}`) !== i.name).length;
		console.log(`${t}: version ${finals[t].version}, ${acked.get(t)} events acknowledged, ${wrong} items not at their last name`);
		if (finals[t].version !== acked.get(t)) bad++;
		bad += wrong;
	}
	for (const f of followers) {
		const same = jsonEqual(f.state, finals[f.topic].state);
		if (!same || f.errors.length) {
			console.log(`follower of ${f.topic}: version ${f.version}, equal ${same}, ${f.errors.slice(0, 3).join('; ')}`);
			bad++;
		}
		f.drop();
	}
	const lt0 = start[0];
	const lt1 = end[0];
	const app0 = start.filter((r) => r.who === 'app');
	const app1 = end.filter((r) => r.who === 'app');
	const sum = (rows, k) => rows.reduce((a, r) => a + r[k], 0);
	console.log(`totals: ${JSON.stringify(stats)}`);
	console.log(`lighttpd: RSS ${(lt0.rss_kb / 1024).toFixed(1)} -> ${(lt1.rss_kb / 1024).toFixed(1)} MB, fds ${lt0.fds} -> ${lt1.fds}`);
	console.log(`app (all processes): RSS ${(sum(app0, 'rss_kb') / 1024).toFixed(1)} -> ${(sum(app1, 'rss_kb') / 1024).toFixed(1)} MB, fds ${sum(app0, 'fds')} -> ${sum(app1, 'fds')} (${app0.length} -> ${app1.length} processes; killed ones are new)`);
	const survivors = app1.filter((r) => app0.some((s) => s.pid === r.pid));
	for (const r of survivors) {
		const s = app0.find((x) => x.pid === r.pid);
		console.log(`app pid ${r.pid} (up the whole time): RSS ${(s.rss_kb / 1024).toFixed(1)} -> ${(r.rss_kb / 1024).toFixed(1)} MB (${(((r.rss_kb - s.rss_kb) / s.rss_kb) * 100).toFixed(1)}%), fds ${s.fds} -> ${r.fds}`);
	}
	console.log(bad === 0 ? 'soak: OK (nothing lost, nothing twice, every follower equal)' : `soak: FAILED (${bad} problems)`);
	process.exit(bad === 0 ? 0 : 1);
}

main().catch((e) => {
	console.error(e);
	process.exit(1);
});
