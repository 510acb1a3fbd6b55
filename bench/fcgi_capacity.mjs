// How many open streams each web server holds with its default limits and
// with the deploy/ template's (tuned) ones, and the memory per open stream
// including the web server's own (proportional set size, PSS, of every
// process of the server: web server and app processes), plus, for Apache
// mod_fcgid, the POST latency after a new stream (the 1 s stall) with one
// process class and with the template's two.  Prints figures; asserts
// nothing.
//   node bench/fcgi_capacity.mjs   (SC_BUILD=build, ulimit -n 65536 first)
// Tunables: TARGET=2000 streams for lighttpd/nginx/mod_proxy_fcgi,
// FCGID_TARGET=150 (each is a process), BATCH=100 streams opened at once
// (FCGID_BATCH=10), SERVERS="stall lighttpd nginx proxy fcgid".
import fs from 'node:fs';

import { get, openStream, post } from '../tests/integration/lib/http.js';
import {
	pidsMentioning, setConfigEdit, startApacheFcgid, startApacheProxy, startLighttpd, startNginx,
} from '../tests/integration/lib/servers.js';

const TARGET = Number(process.env.TARGET || 2000);
const FCGID_TARGET = Number(process.env.FCGID_TARGET || 150);
const BATCH = Number(process.env.BATCH || 100);
// mod_fcgid makes one process per stream, one at a time: smaller bursts.
const FCGID_BATCH = Number(process.env.FCGID_BATCH || 10);
// SERVERS="lighttpd nginx proxy fcgid stall": which parts run.
const SERVERS = (process.env.SERVERS || 'stall lighttpd nginx proxy fcgid').split(/\s+/);

// Back to each server's own defaults for the limits the templates raise.
const DEFAULTS = {
	'deploy/lighttpd/statechannel.conf.in': (t) => t.replace(/^server\.max-(fds|connections) = .*$/gm, ''),
	'deploy/nginx/statechannel.conf.in': (t) => t.replace(/^worker_rlimit_nofile .*$/m, '')
		.replace(/worker_connections \d+;/, ''),
	'deploy/apache/proxy_fcgi.conf.in': (t) => t.replace(/^(ServerLimit|ThreadsPerChild|MaxRequestWorkers) .*$/gm, ''),
	'deploy/apache/fcgid.conf.in': (t) => t
		.replace(/^(ServerLimit|ThreadsPerChild|MaxRequestWorkers|FcgidMaxProcessesPerClass|FcgidMaxProcesses|FcgidSpawnScoreUpLimit|FcgidSpawnScore|FcgidTerminationScore) .*$/gm, '')
		.replace(/# ---- streams: a process class[\s\S]*?# ---- end of streams -+\n/, ''),
};
const ONE_CLASS = {
	'deploy/apache/fcgid.conf.in': (t) => t.replace(/# ---- streams: a process class[\s\S]*?# ---- end of streams -+\n/, ''),
};

function pss(pid) {
	try {
		const m = fs.readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8').match(/^Pss:\s+(\d+) kB/m);
		return m ? Number(m[1]) : 0;
	} catch {
		return 0;
	}
}

// Every process of server s: those naming its temp dir and those of its
// process groups (nginx's workers rename themselves).
function serverPids(s) {
	const set = new Set(pidsMentioning(s.dir));
	const groups = new Set(s.children.map((c) => c.pid));
	for (const p of fs.readdirSync('/proc')) {
		if (!/^\d+$/.test(p)) continue;
		try {
			const stat = fs.readFileSync(`/proc/${p}/stat`, 'utf8');
			const pgid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[2]);
			if (groups.has(pgid)) set.add(Number(p));
		} catch { /* gone */ }
	}
	return [...set];
}

const memKb = (s) => serverPids(s).reduce((a, p) => a + pss(p), 0);

async function openMany(s, topic, n) {
	const tries = [];
	for (let i = 0; i < n; i++) {
		tries.push(openStream(`${s.base}stream/${topic}`, { timeout: 20000 })
			.then((st) => st.frameCount(1, 20000).then(() => st, () => { st.close(); return null; }))
			.catch(() => null));
	}
	return (await Promise.all(tries)).filter(Boolean);
}

async function capacity(name, start, target, batch) {
	const s = await start();
	const topic = `list:capacity`;
	const held = [];
	try {
		await get(`${s.base}state/${topic}`);
		const before = memKb(s);
		while (held.length < target) {
			const got = await openMany(s, topic, Math.min(batch, target - held.length));
			held.push(...got);
			if (got.length < Math.min(batch, target - held.length + got.length)) break;
		}
		const after = memKb(s);
		// Still open and live: one more change reaches them (when the
		// server can still take the POST at all).
		const p = await post(`${s.base}events/${topic}`, { event: 'add', payload: { name: 'x' } }, { timeout: 10000 })
			.catch((e) => ({ status: 0, text: e.message }));
		if (p.status === 200) await Promise.all(held.map((st) => st.frameCount(2, 20000).catch(() => {})));
		const alive = held.filter((st) => !st.ended && st.frames.length >= (p.status === 200 ? 2 : 1)).length;
		const per = held.length ? (after - before) / held.length : 0;
		console.log(`${name.padEnd(34)} ${String(held.length).padStart(5)} streams opened (of ${target} tried), ` +
			`${alive} live; a POST then: ${p.status === 200 ? '200' : `failed (${p.status || p.text})`}; ` +
			`${(before / 1024).toFixed(1)} MiB idle -> ${(after / 1024).toFixed(1)} MiB, ${per.toFixed(1)} KiB per stream`);
	} finally {
		for (const st of held) st.close();
		await s.stop();
	}
}

async function fcgidStall(name, edit) {
	setConfigEdit(edit);
	const s = await startApacheFcgid({ procs: 24 });
	const topic = 'list:stall';
	const lat = [];
	const streams = [];
	try {
		await get(`${s.base}state/${topic}`);
		for (let k = 0; k < 5; k++) {
			const st = await openStream(`${s.base}stream/${topic}`);
			await st.frameCount(1);
			streams.push(st);
			const t0 = performance.now();
			await post(`${s.base}events/${topic}`, { event: 'add', payload: { name: `n${k}` } });
			lat.push(Math.round(performance.now() - t0));
		}
		console.log(`${name.padEnd(34)} POST after each new stream: ${lat.join(', ')} ms`);
	} finally {
		for (const st of streams) st.close();
		await s.stop();
		setConfigEdit(null);
	}
}

if (SERVERS.includes('stall')) {
	await fcgidStall('mod_fcgid, one class (before)', (t, text) => (ONE_CLASS[t] ? ONE_CLASS[t](text) : text));
	await fcgidStall('mod_fcgid, template (two classes)', null);
}

const defaults = (t, text) => (DEFAULTS[t] ? DEFAULTS[t](text) : text);
for (const [key, name, start, target, batch] of [
	['lighttpd', 'lighttpd', () => startLighttpd({ procs: 2 }), TARGET, BATCH],
	['nginx', 'nginx', () => startNginx(), TARGET, BATCH],
	['proxy', 'apache mod_proxy_fcgi', () => startApacheProxy(), TARGET, BATCH],
	['fcgid', 'apache mod_fcgid', () => startApacheFcgid({ procs: FCGID_TARGET + 10 }), FCGID_TARGET, FCGID_BATCH],
]) {
	if (!SERVERS.includes(key)) continue;
	setConfigEdit(defaults);
	await capacity(`${name}, server defaults`, start, target, batch);
	setConfigEdit(null);
	await capacity(`${name}, deploy/ template`, start, target, batch);
}
process.exit(0);
