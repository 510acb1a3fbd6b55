// The PostgreSQL test server (scripts/pg-test.sh through lib/postgres.js)
// and schema_pg.sql: what the PostgreSQL backend's integration tests
// stand on.  A server of PostgreSQL 15 or later from Debian's package,
// listening on a Unix socket only, run by a user other than root; the
// schema applies and says its version; what was committed survives an
// immediate restart and a stop and start; clean leaves nothing behind.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';

import { startPostgres } from './lib/postgres.js';
import { ROOT, pidsMentioning } from './lib/servers.js';

describe('PostgreSQL test server', () => {
	let pg;
	before(async () => {
		pg = await startPostgres();
	});
	after(async () => {
		if (pg) await pg.clean();
	});

	test('PostgreSQL 15+, Unix socket only in its own dir, not run as root', async () => {
		assert.ok(Number(await pg.psql('SHOW server_version_num')) >= 150000);
		assert.equal(await pg.psql('SHOW listen_addresses'), '');
		assert.equal(await pg.psql('SHOW unix_socket_directories'), pg.dir);
		assert.match(pg.uri, /^postgresql:\/\/\/statechannel\?host=[^&]+&port=\d+&user=sc$/);
		assert.equal(new URL(pg.uri).searchParams.get('host'), pg.dir);
		const pid = Number(fs.readFileSync(path.join(pg.dir, 'data', 'postmaster.pid'), 'utf8').split('\n')[0]);
		const uid = Number(fs.readFileSync(`/proc/${pid}/status`, 'utf8').match(/^Uid:\s+(\d+)/m)[1]);
		if (process.getuid() === 0) assert.notEqual(uid, 0);
		else assert.equal(uid, process.getuid());
	});

	test('schema_pg.sql applies as one transaction, once, and says its version', async () => {
		const uri = await pg.newDb('it_schema');
		const schema = fs.readFileSync(path.join(ROOT, 'schema_pg.sql'), 'utf8');
		await pg.psql(schema, uri);
		assert.equal(await pg.psql("SELECT value FROM meta WHERE key = 'schema_version'", uri), '1');
		assert.equal(await pg.psql("SELECT value FROM meta WHERE key = 'seq'", uri), '0');
		assert.equal(await pg.psql(
			"SELECT string_agg(tablename, ',' ORDER BY tablename) FROM pg_tables WHERE schemaname = 'public'", uri),
		'idempotency,log,meta,topics');
		// A second application fails on the first statement and changes
		// nothing (the store looks for meta first).
		await assert.rejects(pg.psql(schema, uri), /already exists/);
		assert.equal(await pg.psql('SELECT count(*) FROM meta', uri), '2');
		// The topic name's bounds hold in the database too.
		await assert.rejects(pg.psql(
			"INSERT INTO topics (name, created_ms, updated_ms, snapshot) VALUES ('', 0, 0, '{}')", uri),
		/topics_name_check/);
	});

	test('what was committed survives an immediate restart, and a stop and start', async () => {
		const uri = await pg.newDb('it_restart');
		await pg.psql('CREATE TABLE t (n int); INSERT INTO t VALUES (1), (2)', uri);
		await pg.restart('immediate');
		assert.equal(await pg.psql('SELECT sum(n) FROM t', uri), '3');
		await pg.psql('INSERT INTO t VALUES (3)', uri);
		await pg.stop('immediate');
		await assert.rejects(pg.psql('SELECT 1', uri));
		await pg.start();
		assert.equal(await pg.psql('SELECT sum(n) FROM t', uri), '6');
	});

	test('clean stops every server process and removes the dir', async () => {
		const { dir } = pg;
		assert.ok(pidsMentioning(dir).length > 0);
		await pg.clean();
		pg = null;
		assert.deepEqual(pidsMentioning(dir), []);
		assert.equal(fs.existsSync(dir), false);
	});
});
