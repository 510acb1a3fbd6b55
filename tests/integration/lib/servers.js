// Starts and stops real web servers in front of the StateChannel app, on
// 127.0.0.1 and free ports, each in a temp dir holding its rendered config
// (from deploy/), its logs, its sockets and the SQLite database.
// Everything a server starts lives in one process group (and mentions the
// temp dir on its command line): stop() ends them all and removes the dir.
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { pidsMentioning, running } from '../../../scripts/lighttpd-harness.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
export const ROOT = path.resolve(here, '../../..');
export const BUILD = path.resolve(ROOT, process.env.SC_BUILD || 'build');
export const APP = path.join(BUILD, process.env.SC_APP || 'shopping.fcgi');
export const CLI = path.join(BUILD, 'statechannel');
const TMP_ROOT = process.env.SC_IT_TMP || os.tmpdir();

// What every app in the tests runs with: short heartbeats so the tests see
// them, a small body limit so a 413 is cheap to provoke.
export const HEARTBEAT = 1;
export const BODY_LIMIT = 65536;
const APP_ARGS = `--body-limit ${BODY_LIMIT}`;

const live = new Set();
// Whatever has a killSync() (a server, lib/postgres.js's database) is
// killed when the test process exits or is interrupted, unless it was
// stopped and untracked before.
export function track(s) {
	live.add(s);
}
export function untrack(s) {
	live.delete(s);
}
function killAllSync() {
	for (const s of live) s.killSync();
}
process.on('exit', killAllSync);
for (const sig of ['SIGINT', 'SIGTERM']) {
	process.on(sig, () => {
		killAllSync();
		process.exit(130);
	});
}

// A function the benchmarks set to change every config rendered after
// (e.g. back to a server's default limits); null: the templates as they are.
let configEdit = null;
export function setConfigEdit(fn) {
	configEdit = fn;
}

export function render(template, vars) {
	let text = fs.readFileSync(path.join(ROOT, template), 'utf8');
	if (configEdit) text = configEdit(template, text);
	for (const [k, v] of Object.entries(vars)) text = text.split(`@${k}@`).join(String(v));
	const left = text.match(/@[A-Z_][A-Z0-9_]*@/g);
	if (left) throw new Error(`render ${template}: no value for ${[...new Set(left)]}`);
	return text;
}

export function freePort() {
	return new Promise((resolve, reject) => {
		const srv = net.createServer();
		srv.once('error', reject);
		srv.listen(0, '127.0.0.1', () => {
			const { port } = srv.address();
			srv.close(() => resolve(port));
		});
	});
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

export async function waitHttp(port, log, child, ms = 15000) {
	const end = Date.now() + ms;
	while (Date.now() < end) {
		if (child.exitCode !== null) break;
		const ok = await new Promise((resolve) => {
			const s = net.connect(port, '127.0.0.1');
			s.once('connect', () => { s.destroy(); resolve(true); });
			s.once('error', () => resolve(false));
		});
		if (ok) return;
		await sleep(50);
	}
	throw new Error(`server on port ${port} did not start:\n${readTail(log)}`);
}

async function waitFile(file, child, ms = 15000) {
	const end = Date.now() + ms;
	while (Date.now() < end) {
		if (fs.existsSync(file)) return;
		if (child.exitCode !== null) break;
		await sleep(25);
	}
	throw new Error(`${file} did not appear`);
}

export function readTail(file, n = 4000) {
	try {
		const t = fs.readFileSync(file, 'utf8');
		return t.slice(-n);
	} catch {
		return `(no ${file})`;
	}
}

// Whether pid still runs (a zombie has exited), and the pids of every
// process whose command line mentions a text (a server's temp dir):
// shared with the benches.
export { pidsMentioning, running };

// The app processes: those running the binary app with the temp dir in
// their command line.
export function appPids(dir, app = APP) {
	const exe = fs.realpathSync(app);
	return pidsMentioning(dir).filter((p) => {
		try {
			return fs.readlinkSync(`/proc/${p}/exe`) === exe;
		} catch {
			return false;
		}
	});
}

// The binaries as user can run them: when the build directory is out of
// user's reach (a clone under /root), copies in the server's temp dir.
function binariesFor(s, user) {
	const canRun = (file) => spawnSync('setpriv', ['--reuid', user, '--regid', user, '--clear-groups',
		'test', '-x', file]).status === 0;
	if (!user || process.getuid() !== 0 || canRun(APP)) return;
	const bin = path.join(s.dir, 'bin');
	fs.mkdirSync(bin, { recursive: true });
	fs.chmodSync(bin, 0o755);
	for (const [key, file] of [['app', APP], ['cliPath', CLI]]) {
		if (!fs.existsSync(file)) continue;
		const copy = path.join(bin, path.basename(file));
		fs.copyFileSync(file, copy);
		fs.chmodSync(copy, 0o755);
		s[key] = copy;
	}
}

export function fdCount(pid) {
	try {
		return fs.readdirSync(`/proc/${pid}/fd`).length;
	} catch {
		return -1;
	}
}

class Server {
	constructor(kind, dir) {
		this.kind = kind;
		this.dir = dir;
		this.children = [];
		this.db = path.join(dir, 'db', 'statechannel.db');
		this.app = APP;
		this.cliPath = CLI;
		fs.mkdirSync(path.dirname(this.db), { recursive: true });
		live.add(this);
	}

	spawn(cmd, args, logName, opts = {}) {
		const log = path.join(this.dir, logName);
		const fd = fs.openSync(log, 'a');
		const child = spawn(cmd, args, {
			cwd: this.dir,
			detached: true, // its own process group
			stdio: ['ignore', fd, fd],
			env: { ...process.env, STATECHANNEL_DB: this.db, ...(opts.env || {}) },
		});
		fs.closeSync(fd);
		child.logFile = log;
		child.stopSignal = opts.stopSignal; // to the leader alone
		this.children.push(child);
		return child;
	}

	// Runs the statechannel command on this server's database.
	cli(args, input) {
		// As the app's user: files SQLite makes beside the database
		// (-wal, -shm) must stay writable by the app.
		const cmd = this.user ? ['setpriv', '--reuid', this.user, '--regid', this.user,
			'--clear-groups', this.cliPath] : [this.cliPath];
		const r = spawnSync(cmd[0], [...cmd.slice(1), '--db', this.db, ...args], {
			input, encoding: 'utf8', timeout: 20000,
		});
		return r;
	}

	appPids() {
		return appPids(this.dir, this.app);
	}

	logs() {
		let s = '';
		for (const f of fs.readdirSync(this.dir)) {
			if (f.endsWith('.log')) s += `--- ${f}\n${readTail(path.join(this.dir, f))}\n`;
		}
		return s;
	}

	// Sanitizer and crash reports in any log of this server (the app's
	// stderr goes to lighttpd's, Apache's or its own log).
	reports() {
		const out = [];
		for (const f of fs.readdirSync(this.dir)) {
			if (!f.endsWith('.log')) continue;
			const t = fs.readFileSync(path.join(this.dir, f), 'utf8');
			const m = t.match(/^.*(ERROR: AddressSanitizer|ERROR: LeakSanitizer|runtime error:|ThreadSanitizer|Segmentation fault|Assertion .* failed).*$/gm);
			if (m) out.push(`${f}: ${m.slice(0, 5).join('\n')}`);
		}
		return out;
	}

	async waitGone(ms) {
		const end = Date.now() + ms;
		while (Date.now() < end && pidsMentioning(this.dir).length > 0) await sleep(50);
	}

	killSync() {
		for (const c of this.children) {
			try { process.kill(-c.pid, 'SIGKILL'); } catch { /* gone */ }
		}
		for (const p of pidsMentioning(this.dir)) {
			try { process.kill(p, 'SIGKILL'); } catch { /* gone */ }
		}
		live.delete(this);
		if (!process.env.SC_IT_KEEP) fs.rmSync(this.dir, { recursive: true, force: true });
	}

	// SIGTERM to each child's process group, but Apache gets SIGWINCH
	// (`apachectl graceful-stop`) at its parent alone, and the SIGTERM only
	// if it is still there 2 s later (a stream open: graceful-stop waits).
	// With SIGTERM, about 1 stop in 100 right after a request crashed an
	// mpm_event child of Apache 2.4.71 (SIGSEGV in the child's main thread
	// as its listener thread exits; core dumps read with gdb; fcntl, flock
	// and pthread mutexes alike); none in 660 graceful stops.  killSync
	// then SIGKILLs whatever is left.
	async stop() {
		for (const c of this.children) {
			try { process.kill(c.stopSignal ? c.pid : -c.pid, c.stopSignal || 'SIGTERM'); } catch { /* gone */ }
		}
		const graceful = this.children.filter((c) => c.stopSignal);
		if (graceful.length > 0) await this.waitGone(2000);
		for (const c of graceful) {
			try { process.kill(-c.pid, 'SIGTERM'); } catch { /* gone */ }
		}
		await this.waitGone(5000);
		const left = pidsMentioning(this.dir);
		this.lastReports = this.reports();
		if (this.lastReports.length) this.lastLogs = this.logs();
		this.killSync();
		return left;
	}
}

function tempDir(kind) {
	const dir = fs.mkdtempSync(path.join(TMP_ROOT, `sc-${kind}-`));
	fs.chmodSync(dir, 0o755); // nginx's and Apache's workers reach sockets in it
	return dir;
}

// The JSON error bodies of deploy/errors, copied where the server's user
// can read them.
function errorsDir(s) {
	const dir = path.join(s.dir, 'errors');
	fs.cpSync(path.join(ROOT, 'deploy/errors'), dir, { recursive: true });
	fs.chmodSync(dir, 0o755);
	return dir;
}

// The app's stream cap in the lighttpd template (PROCS x MAX_STREAMS below
// its max-connections, docs/deploy.md).
export const MAX_STREAMS = 2500;


// lighttpd -D, the app spawned by it (bin-path: fd 0), PROCS processes,
// routes at PREFIX (default the site root).  With auth ({users: {name:
// password}, private}), wrapped in deploy/lighttpd/auth.conf.in: Basic
// authentication on the routes of the topics beginning with private.
// Started as root, lighttpd runs itself and the app as www-data (the
// template's server.username), which then owns the temp dir.
// app(dir): the binary to spawn, made in the temp dir (default APP).
export async function startLighttpd({ prefix = '/', procs = 2, streamLife = 0, auth, maxStreams = MAX_STREAMS, appArgs = '', app, db } = {}) {
	const s = new Server('lighttpd', tempDir('lighttpd'));
	if (db) s.db = db;
	const port = await freePort();
	const user = apacheUser();
	if (process.getuid() === 0) s.user = user;
	binariesFor(s, s.user);
	if (app) s.app = app(s.dir);
	const docroot = path.join(s.dir, 'www');
	fs.mkdirSync(docroot);
	fs.writeFileSync(path.join(docroot, 'index.html'), '<!doctype html><title>t</title>\n');
	const conf = render('deploy/lighttpd/statechannel.conf.in', {
		PORT: port, HOST: '127.0.0.1', RUNDIR: s.dir, APP: s.app, DB: s.db, PREFIX: prefix,
		PROCS: procs, DOCROOT: docroot, CLIENT_DIR: path.join(ROOT, 'client'),
		HEARTBEAT, STREAM_LIFE: streamLife, BODY_LIMIT, MAX_STREAMS: maxStreams,
		ERRORS: errorsDir(s), USER: user, GROUP: user, APP_ARGS: appArgs,
	});
	fs.writeFileSync(path.join(s.dir, 'lighttpd.conf'), conf);
	let confFile = path.join(s.dir, 'lighttpd.conf');
	if (auth) {
		const userfile = path.join(s.dir, 'users');
		fs.writeFileSync(userfile, Object.entries(auth.users).map(([u, p]) => `${u}:${p}\n`).join(''));
		confFile = path.join(s.dir, 'lighttpd-auth.conf');
		fs.writeFileSync(confFile, render('deploy/lighttpd/auth.conf.in', {
			SITE_CONF: path.join(s.dir, 'lighttpd.conf'), PREFIX: prefix,
			PRIVATE: auth.private, REALM: auth.realm || 'StateChannel', USERFILE: userfile,
		}));
	}
	if (process.getuid() === 0) chownTree(s.dir, user);
	const child = s.spawn('/usr/sbin/lighttpd', ['-D', '-f', confFile], 'lighttpd.log');
	await waitHttp(port, path.join(s.dir, 'lighttpd-error.log'), child);
	s.base = `http://127.0.0.1:${port}${prefix}`;
	s.port = port;
	return s;
}

// Apache refuses root: it runs as www-data, which must own the temp dir
// (its database, mod_fcgid's sockets, its logs).
function chownTree(dir, user = 'www-data') {
	spawnSync('chown', ['-R', `${user}:${user}`, dir]);
}

function apacheUser() {
	return process.getuid() === 0 ? 'www-data' : os.userInfo().username;
}

// Apache on s's httpd.conf, in the foreground; stopped with SIGWINCH
// (graceful-stop, Server.stop).
function spawnApache(s) {
	return s.spawn('/usr/sbin/apache2', ['-DFOREGROUND', '-f', path.join(s.dir, 'httpd.conf')], 'apache.log',
		{ stopSignal: 'SIGWINCH' });
}

// Apache mod_fcgid: spawns the app itself (fd 0), one request per process.
export async function startApacheFcgid({ prefix = '/app', procs = 24, streamLife = 0 } = {}) {
	const s = new Server('apache-fcgid', tempDir('apache-fcgid'));
	const port = await freePort();
	const user = apacheUser();
	if (process.getuid() === 0) s.user = user;
	binariesFor(s, s.user);
	const docroot = path.join(s.dir, 'www');
	fs.mkdirSync(docroot);
	fs.writeFileSync(path.join(docroot, 'index.html'), '<!doctype html><title>fcgid page</title>\n');
	const conf = render('deploy/apache/fcgid.conf.in', {
		PORT: port, HOST: '127.0.0.1', RUNDIR: s.dir, USER: user, GROUP: user,
		APP: s.app, DB: s.db, PREFIX: prefix, PROCS: procs,
		HEARTBEAT, STREAM_LIFE: streamLife, BODY_LIMIT, ERRORS: errorsDir(s),
		DOCROOT: docroot, CLIENT_DIR: path.join(ROOT, 'client'),
	});
	fs.writeFileSync(path.join(s.dir, 'httpd.conf'), conf);
	if (process.getuid() === 0) chownTree(s.dir, user);
	const child = spawnApache(s);
	await waitHttp(port, path.join(s.dir, 'error.log'), child);
	s.base = `http://127.0.0.1:${port}${prefix}/`;
	s.port = port;
	return s;
}

// The app on its own socket (--listen), for nginx and mod_proxy_fcgi.
async function startListeningApp(s, { streamLife = 0, extra = '', user } = {}) {
	const sock = path.join(s.dir, 'app.sock');
	const args = ['--db', s.db, '--listen', sock, '--heartbeat', String(HEARTBEAT),
		'--max-stream-life', String(streamLife), ...APP_ARGS.split(' '),
		...extra.split(' ').filter(Boolean)];
	let child;
	if (user && process.getuid() === 0) {
		// Run it as the web server's user, as an operator would.
		binariesFor(s, user);
		child = s.spawn('setpriv', ['--reuid', user, '--regid', user, '--clear-groups', s.app, ...args], 'app.log');
	} else {
		child = s.spawn(s.app, args, 'app.log');
	}
	await waitFile(sock, child).catch((e) => {
		throw new Error(`${e.message}\n${readTail(path.join(s.dir, 'app.log'))}`);
	});
	return sock;
}

export async function startNginx({ prefix = '/app/', streamLife = 0, extra = '' } = {}) {
	const s = new Server('nginx', tempDir('nginx'));
	const port = await freePort();
	const sock = await startListeningApp(s, { streamLife, extra });
	const docroot = path.join(s.dir, 'www');
	fs.mkdirSync(docroot);
	return runNginx(s, 'deploy/nginx/statechannel.conf.in', {
		PORT: port, HOST: '127.0.0.1', RUNDIR: s.dir, SOCKET: sock, PREFIX: prefix,
		TIMEOUT: 60, DOCROOT: docroot, ERRORS: errorsDir(s),
	});
}

// Renders the nginx template with vars into s.dir, starts nginx on it
// and waits for vars.PORT; s.base is vars.PREFIX there.
async function runNginx(s, template, vars) {
	const conf = path.join(s.dir, 'nginx.conf');
	fs.writeFileSync(conf, render(template, vars));
	const child = s.spawn('/usr/sbin/nginx', ['-p', s.dir, '-c', conf], 'nginx.log');
	await waitHttp(vars.PORT, path.join(s.dir, 'error.log'), child);
	s.base = `http://127.0.0.1:${vars.PORT}${vars.PREFIX}`;
	s.port = vars.PORT;
	return s;
}

export async function startApacheProxy({ prefix = '/app', streamLife = 0, extra = '' } = {}) {
	const s = new Server('apache-proxy', tempDir('apache-proxy'));
	const port = await freePort();
	const user = apacheUser();
	if (process.getuid() === 0) {
		chownTree(s.dir, user);
		s.user = user;
	}
	const sock = await startListeningApp(s, { streamLife, extra, user });
	const conf = render('deploy/apache/proxy_fcgi.conf.in', {
		PORT: port, HOST: '127.0.0.1', RUNDIR: s.dir, USER: user, GROUP: user,
		SOCKET: sock, PREFIX: prefix, TIMEOUT: 60, ERRORS: errorsDir(s),
	});
	fs.writeFileSync(path.join(s.dir, 'httpd.conf'), conf);
	const child = spawnApache(s);
	await waitHttp(port, path.join(s.dir, 'error.log'), child);
	s.base = `http://127.0.0.1:${port}${prefix}/`;
	s.port = port;
	return s;
}

// nginx as the load balancer of deploy/multihost/ in front of the web
// servers of several hosts (servers started above: their ports), at
// PREFIX as on the hosts.
export async function startBalancer(hosts, { prefix = '/app/' } = {}) {
	const s = new Server('balancer', tempDir('balancer'));
	const port = await freePort();
	return runNginx(s, 'deploy/multihost/balancer-nginx.conf.in', {
		PORT: port, HOST: '127.0.0.1', RUNDIR: s.dir, PREFIX: prefix, TIMEOUT: 60,
		HOST_A: `127.0.0.1:${hosts[0].port}`, HOST_B: `127.0.0.1:${hosts[1].port}`,
	});
}

export const SERVERS = {
	lighttpd: startLighttpd,
	'apache-fcgid': startApacheFcgid,
	'apache-proxy': startApacheProxy,
	nginx: startNginx,
};
