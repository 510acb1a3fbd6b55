// Authorization through a real server: lighttpd asks for a password (HTTP
// Basic, mod_auth + mod_authn_file, deploy/lighttpd/auth.conf.in) on the
// routes of the private topics and passes the user as REMOTE_USER; the
// shopping app's authorize() lets "list:private-*" through only with a
// user.  The suite (lib/suite.js) checks the refusal without a server that
// authenticates; this checks the other side.
import assert from 'node:assert/strict';
import { describe } from 'node:test';

import { get, post } from './lib/http.js';
import { startLighttpd } from './lib/servers.js';
import { serverHooks } from './lib/suite.js';

const USER = 'alice';
const PASSWORD = 's3cret-pw';
const basic = (user, password) => ({ Authorization: `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}` });
const GOOD = basic(USER, PASSWORD);

let serial = 0;
const privateTopic = () => `list:private-${++serial}-${process.pid}`;
const add = (name) => ({ event: 'add', payload: { name, quantity: 1 } });

// A refusal: lighttpd's 401 with a Basic challenge, or the app's 403.
function assertRefused(r, what, want = [401, 403]) {
	assert.ok(want.includes(r.status), `${what}: status ${r.status}, want ${want}: ${(r.text || '').slice(0, 200)}`);
	if (r.status === 401) assert.match(r.headers['www-authenticate'] || '', /^Basic\b/, `${what}: challenge`);
	if (r.status === 403) assert.match(r.headers['content-type'] || '', /^application\/json/, `${what}: the app's JSON error`);
}

describe('lighttpd with Basic authentication on list:private-* (REMOTE_USER reaches authorize)', { concurrency: false }, () => {
	let base;
	const { stream, t } = serverHooks(
		() => startLighttpd({ prefix: '/', procs: 2, auth: { users: { [USER]: PASSWORD }, private: 'list:private-' } }),
		'',
		(x) => {
			base = x.base;
		},
	);

	t('without credentials a private topic is refused (GET, POST, stream) and nothing changes', async () => {
		const topic = privateTopic();
		assertRefused(await get(`${base}state/${topic}`), 'GET');
		assertRefused(await post(`${base}events/${topic}`, add('x')), 'POST');
		const st = await stream(`stream/${topic}`);
		assertRefused({ status: st.status, headers: st.headers }, 'stream');
		st.close();
		// Not below the protected paths: lighttpd asks nothing, the app
		// refuses (no REMOTE_USER), even with credentials sent along.
		for (const headers of [{}, GOOD]) {
			const q = await get(`${base}stream?topic=${topic}`, { headers });
			assertRefused(q, `stream?topic= ${headers.Authorization ? 'with' : 'without'} credentials`, [403]);
		}
		const g = await get(`${base}state/${topic}`, { headers: GOOD });
		assert.equal(g.status, 200, g.text);
		assert.equal(g.json.version, 0, 'the refused POST changed nothing');
	});

	t('public topics need no credentials', async () => {
		const topic = `list:public-${process.pid}`;
		const r = await post(`${base}events/${topic}`, add('bread'));
		assert.equal(r.status, 200, r.text);
		const g = await get(`${base}state/${topic}`);
		assert.equal(g.status, 200, g.text);
		assert.deepEqual(g.json.state.items.map((i) => i.name), ['bread']);
	});

	t('with the right credentials: GET 200 with the state, POST 200, a stream gets the state frame then the patch', async () => {
		const topic = privateTopic();
		const g = await get(`${base}state/${topic}`, { headers: GOOD });
		assert.equal(g.status, 200, g.text);
		assert.equal(g.json.topic, topic);
		assert.equal(g.json.version, 0);
		assert.deepEqual(g.json.state, { items: [], next_id: 1 });

		const st = await stream(`stream/${topic}`, { headers: GOOD });
		assert.equal(st.status, 200);
		assert.match(st.headers['content-type'], /^text\/event-stream/);
		await st.frameCount(1);
		assert.equal(st.frames[0].event, 'state');
		assert.equal(st.frames[0].json.topic, topic);
		assert.equal(st.frames[0].json.version, 0);

		const r = await post(`${base}events/${topic}`, add('Milk'), { headers: GOOD });
		assert.equal(r.status, 200, r.text);
		assert.equal(r.json.topic, topic);
		assert.equal(r.json.version, 1);
		assert.ok(Array.isArray(r.json.patch) && r.json.patch.length > 0, r.text);

		await st.frameCount(2);
		const f = st.frames[1];
		assert.equal(f.event, 'patch');
		assert.equal(f.id, r.json.cursor);
		assert.equal(f.json.version, 1);
		assert.deepEqual(f.json.patch, r.json.patch);
		st.close();

		const g2 = await get(`${base}state/${topic}`, { headers: GOOD });
		assert.equal(g2.status, 200, g2.text);
		assert.equal(g2.json.version, 1);
		assert.deepEqual(g2.json.state.items.map((i) => i.name), ['Milk']);
	});

	t('a wrong password or an unknown user is refused with 401, and nothing changes', async () => {
		const topic = privateTopic();
		for (const [what, headers] of [['wrong password', basic(USER, 'nope')], ['unknown user', basic('mallory', PASSWORD)]]) {
			const g = await get(`${base}state/${topic}`, { headers });
			assertRefused(g, `GET, ${what}`, [401]);
			const p = await post(`${base}events/${topic}`, add('x'), { headers });
			assertRefused(p, `POST, ${what}`, [401]);
			const st = await stream(`stream/${topic}`, { headers });
			assertRefused({ status: st.status, headers: st.headers }, `stream, ${what}`, [401]);
			st.close();
		}
		const g = await get(`${base}state/${topic}`, { headers: GOOD });
		assert.equal(g.status, 200, g.text);
		assert.equal(g.json.version, 0);
	});
});
