// deploy/multihost/: nginx as the load balancer in front of two hosts'
// web servers (here two nginx + app servers on one machine): the
// rendered template runs, spreads the requests over both hosts and
// relays a stream frame by frame.  The hosts keep a SQLite file each for
// now; with the store's PostgreSQL backend they share one database and an
// event through either reaches the streams of both.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';

import { get, openStream, post } from './lib/http.js';
import { startBalancer, startNginx } from './lib/servers.js';

describe('load balancer (deploy/multihost/balancer-nginx.conf.in) over two hosts', () => {
	let hosts = [];
	let lb;
	before(async () => {
		hosts = [await startNginx(), await startNginx()];
		lb = await startBalancer(hosts);
	});
	after(async () => {
		for (const s of [lb, ...hosts]) if (s) await s.stop();
	});

	test('requests are spread over both hosts', async () => {
		const topic = `list:lb-${process.pid}`;
		for (let i = 0; i < 6; i++) {
			const r = await post(`${lb.base}events/${topic}`, { event: 'add', payload: { name: `item ${i}` } });
			assert.equal(r.status, 200, r.text);
		}
		const versions = [];
		for (const h of hosts) {
			const r = await get(`${h.base}state/${topic}`);
			assert.equal(r.status, 200, r.text);
			versions.push(r.json.version);
		}
		assert.equal(versions[0] + versions[1], 6);
		assert.ok(versions[0] > 0 && versions[1] > 0, `versions per host: ${versions}`);
	});

	test('a stream through the balancer gets each frame as it comes', async () => {
		const topic = `list:lb-stream-${process.pid}`;
		const s = await openStream(`${lb.base}stream/${topic}`);
		try {
			assert.equal(s.status, 200);
			assert.match(s.headers['content-type'], /^text\/event-stream/);
			await s.until((x) => x.frames.some((f) => f.event === 'state'), 10000, 'the state frame');
			// The host that holds the stream commits the event (until
			// the hosts share PostgreSQL, only its own events reach it).
			for (const h of hosts) {
				const r = await post(`${h.base}events/${topic}`, { event: 'add', payload: { name: 'Milk' } });
				assert.equal(r.status, 200, r.text);
			}
			await s.until((x) => x.frames.some((f) => f.event === 'patch'), 10000, 'a patch frame');
		} finally {
			s.close();
		}
	});
});
