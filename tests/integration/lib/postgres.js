// A PostgreSQL server of the tests' own, through scripts/pg-test.sh:
// initdb into a temp dir (under SC_IT_TMP, so run.sh's cleanup finds what
// a crashed test left), Unix socket only, as a non-root user when the
// tests run as root, fsync off.  clean() stops it and removes the dir; so
// does the exit of the test process (servers.js's track).
//   const pg = await startPostgres();
//   pg.uri                        the database "statechannel"
//   await pg.newDb('name')        a fresh database, its URI
//   await pg.psql('SELECT 1')     the rows, unaligned, '|' between columns
//   await pg.stop('immediate'); await pg.start(); await pg.restart(mode)
import { execFile, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';

import { ROOT, track, untrack } from './servers.js';

export const PG_SCRIPT = path.join(ROOT, 'scripts', 'pg-test.sh');
const run = promisify(execFile);

async function script(...args) {
	try {
		const { stdout } = await run(PG_SCRIPT, args, { timeout: 120000 });
		return stdout.trim();
	} catch (e) {
		throw new Error(`pg-test.sh ${args[0]}: ${e.stderr || e.message}`);
	}
}

class Postgres {
	constructor(dir, uri) {
		this.dir = dir;
		this.uri = uri;
		track(this);
	}

	// Stops the server (pg_ctl -m mode: smart, fast, immediate); its
	// data stays for start().
	stop(mode = 'fast') {
		return script('stop', this.dir, mode);
	}

	start() {
		return script('start', this.dir);
	}

	restart(mode = 'fast') {
		return script('restart', this.dir, mode);
	}

	newDb(name) {
		return script('newdb', this.dir, name);
	}

	// Runs sql (psql -c) on db (default the database of uri).
	psql(sql, uri = this.uri) {
		return script('psql', this.dir, '-At', '-d', uri, '-c', sql);
	}

	killSync() {
		spawnSync(PG_SCRIPT, ['clean', this.dir], { stdio: 'ignore', timeout: 60000 });
		untrack(this);
	}

	async clean() {
		await script('clean', this.dir);
		untrack(this);
	}
}

export async function startPostgres({ fast = true } = {}) {
	const dir = fs.mkdtempSync(path.join(process.env.SC_IT_TMP || os.tmpdir(), 'sc-pg-'));
	try {
		const uri = await script('start', ...(fast ? ['--fast'] : []), dir);
		return new Postgres(dir, uri);
	} catch (e) {
		spawnSync(PG_SCRIPT, ['clean', dir], { stdio: 'ignore' });
		fs.rmSync(dir, { recursive: true, force: true });
		throw e;
	}
}
