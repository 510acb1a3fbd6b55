// What bench/stayup.mjs and scripts/soak.mjs share: lighttpd with the
// shipped template in front of BUILD/shopping.fcgi in a temp dir (removed,
// with every process mentioning it, when node exits), its app processes,
// their memory and fds, and a small keep-alive HTTP client.
import { execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const LIGHTTPD = fs.existsSync('/usr/sbin/lighttpd') ? '/usr/sbin/lighttpd' : 'lighttpd';

export function pidsMentioning(text) {
	const out = [];
	for (const p of fs.readdirSync('/proc')) {
		if (!/^\d+$/.test(p) || Number(p) === process.pid) continue;
		try {
			if (fs.readFileSync(`/proc/${p}/cmdline`, 'utf8').includes(text)) out.push(Number(p));
		} catch { /* gone */ }
	}
	return out;
}

// Whether pid still runs.  A process that has exited but not yet been
// reaped (a zombie: its parent died, and the init process reaps orphans
// when it gets to them, seconds later on some machines) has exited.
export function running(pid) {
	try {
		const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
		const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
		return state !== 'Z' && state !== 'X';
	} catch {
		return false;
	}
}

// {pid, rss_kb, fds} of a process (-1 when it is gone).
export function usage(pid) {
	try {
		const rss = Number(/VmRSS:\s+(\d+)/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'))[1]);
		return { pid, rss_kb: rss, fds: fs.readdirSync(`/proc/${pid}/fd`).length };
	} catch {
		return { pid, rss_kb: -1, fds: -1 };
	}
}

function freePort() {
	return new Promise((resolve) => {
		const s = net.createServer();
		s.listen(0, '127.0.0.1', () => {
			const p = s.address().port;
			s.close(() => resolve(p));
		});
	});
}

export class Site {
	// build: the build directory; vars: template variables to override;
	// edit: a function of the rendered config text (a variant to compare).
	constructor(build, tag, vars = {}, edit = (text) => text) {
		this.edit = edit;
		this.app = path.join(path.resolve(build), 'shopping.fcgi');
		this.cli = path.join(path.resolve(build), 'statechannel');
		this.dir = fs.mkdtempSync(path.join(os.tmpdir(), `sc-${tag}.`));
		fs.chmodSync(this.dir, 0o755);
		this.db = path.join(this.dir, 'statechannel.db');
		this.vars = vars;
		this.agent = new http.Agent({ keepAlive: true, maxSockets: 32 });
		process.on('exit', () => this.cleanup());
	}

	async start() {
		if (!this.port) {
			this.port = await freePort();
			const vars = {
				PORT: this.port, HOST: '127.0.0.1', RUNDIR: this.dir, APP: this.app, DB: this.db,
				PREFIX: '/', PROCS: 2, DOCROOT: this.dir, CLIENT_DIR: path.join(ROOT, 'client'),
				HEARTBEAT: 15, STREAM_LIFE: 0, BODY_LIMIT: 1048576, MAX_STREAMS: 2500,
				ERRORS: path.join(ROOT, 'deploy/errors'), ...this.vars,
			};
			fs.writeFileSync(path.join(this.dir, 'lighttpd.conf'), this.edit(execFileSync(path.join(ROOT, 'deploy/render.sh'), [
				path.join(ROOT, 'deploy/lighttpd/statechannel.conf.in'),
				...Object.entries(vars).map(([k, v]) => `${k}=${v}`),
			], { encoding: 'utf8' })));
		}
		this.lighttpd = spawn(LIGHTTPD, ['-D', '-f', path.join(this.dir, 'lighttpd.conf')], {
			stdio: 'ignore', detached: true,
		});
		for (let i = 0; i < 400; i++) {
			const ok = await new Promise((resolve) => {
				const s = net.connect(this.port, '127.0.0.1');
				s.once('connect', () => { s.destroy(); resolve(true); });
				s.once('error', () => resolve(false));
			});
			if (ok) return;
			await sleep(25);
		}
		throw new Error('lighttpd did not start');
	}

	appPids() {
		const exe = fs.realpathSync(this.app);
		return pidsMentioning(this.db).filter((p) => {
			try { return fs.readlinkSync(`/proc/${p}/exe`) === exe; } catch { return false; }
		});
	}

	// One request: {status, json, headers, ms}; status 0 when it failed.
	request(method, p, body, timeout = 20000) {
		return new Promise((resolve) => {
			const t0 = performance.now();
			const req = http.request({ host: '127.0.0.1', port: this.port, path: p, method, agent: this.agent, timeout,
				headers: body ? { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body) } : {} },
			(res) => {
				const chunks = [];
				res.on('data', (c) => chunks.push(c));
				res.on('end', () => {
					let json = null;
					try { json = JSON.parse(Buffer.concat(chunks).toString('utf8')); } catch { /* not JSON */ }
					resolve({ status: res.statusCode, json, headers: res.headers, ms: performance.now() - t0 });
				});
				res.on('error', () => resolve({ status: 0, json: null, ms: performance.now() - t0 }));
			});
			req.on('timeout', () => req.destroy(new Error('timeout')));
			req.on('error', () => resolve({ status: 0, json: null, ms: performance.now() - t0 }));
			if (body) req.write(body);
			req.end();
		});
	}

	cleanup() {
		try { process.kill(-this.lighttpd.pid, 'SIGKILL'); } catch { /* gone */ }
		for (const p of pidsMentioning(this.dir)) {
			try { process.kill(p, 'SIGKILL'); } catch { /* gone */ }
		}
		if (!process.env.SC_KEEP) fs.rmSync(this.dir, { recursive: true, force: true });
	}
}
