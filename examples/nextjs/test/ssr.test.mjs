// The Next.js example, built and started for real: its server-rendered HTML
// already holds the list's items (from GET /state), the snapshot's cursor
// reaches the browser, cookies are forwarded, and the rewrites stream SSE.
//
//   npm test                       a fake StateChannel server (node http)
//   STATECHANNEL_URL=http://127.0.0.1:8080 npm test
//                                  against the real FastCGI server (make run):
//                                  the test adds its items through POST /events
// The rewrites (next.config.mjs) are fixed at build time: the test builds
// with its upstream's URL.  SKIP_BUILD=1 reuses an existing .next/ build
// (built for the same STATECHANNEL_URL).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { spawn, execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const dir = fileURLToPath(new URL('..', import.meta.url));
const nextBin = `${dir}node_modules/next/dist/bin/next`;
const REAL = process.env.STATECHANNEL_URL;
const list = REAL ? `ssr-${process.pid}-${Date.now()}` : 'groceries';
const topic = `list:${list}`;

const seen = { cookies: [] };
let fake;
let next;
let nextUrl;

function listen(server) {
  return new Promise((r) => server.listen(0, '127.0.0.1', () => r(server.address().port)));
}

async function startFake() {
  const state = {
    items: [
      { id: 'i1', name: 'Milk', quantity: 2, bought: false },
      { id: 'i2', name: 'Eggs & <b>bacon</b>', quantity: 12, bought: true },
    ],
    next_id: 3,
  };
  fake = http.createServer((req, res) => {
    const u = new URL(req.url, 'http://x');
    if (u.pathname === `/state/${topic}`) {
      seen.cookies.push(req.headers.cookie);
      res.writeHead(200, { 'Content-Type': 'application/json', ETag: '"v3"' });
      res.end(JSON.stringify({ topic, version: 3, cursor: 'EP:7', state }));
    } else if (u.pathname === `/stream/${topic}`) {
      seen.after = u.searchParams.get('after');
      res.writeHead(200, { 'Content-Type': 'text/event-stream', 'Cache-Control': 'no-cache' });
      res.write('retry: 2000\n\n');
      res.write(`event: patch\nid: EP:8\ndata: ${JSON.stringify({ topic, version: 4, patch: [{ op: 'replace', path: '/items/0/quantity', value: 3 }] })}\n\n`);
      // stays open: the test must see the frame while the stream lives
      req.on('close', () => res.end());
    } else if (u.pathname.startsWith('/state/')) {
      res.writeHead(404, { 'Content-Type': 'application/json' });
      res.end('{"error":{"code":"not_found","message":"no such topic"}}');
    } else {
      res.writeHead(404);
      res.end();
    }
  });
  return `http://127.0.0.1:${await listen(fake)}`;
}

async function seedReal() {
  let last;
  for (const [name, quantity] of [
    ['Milk', 2],
    ['Eggs & <b>bacon</b>', 12],
  ]) {
    const r = await fetch(`${REAL}/events/${topic}`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ event: 'add', payload: { name, quantity } }),
    });
    const text = await r.text();
    assert.equal(r.status, 200, text);
    last = JSON.parse(text).patch.find((op) => op.path === '/items/-').value.id;
  }
  // the second item bought, as in the fake
  const r = await fetch(`${REAL}/events/${topic}`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ event: 'toggle', payload: { id: last } }),
  });
  assert.equal(r.status, 200, await r.text());
}

before(async () => {
  const upstream = REAL ? REAL.replace(/\/+$/, '') : await startFake();
  if (REAL) await seedReal();
  const env = { ...process.env, STATECHANNEL_URL: upstream, NEXT_TELEMETRY_DISABLED: '1' };
  if (!(REAL && process.env.SKIP_BUILD && existsSync(`${dir}.next/BUILD_ID`))) {
    execFileSync(process.execPath, [nextBin, 'build'], { cwd: dir, env, stdio: ['ignore', 'inherit', 'inherit'] });
  }
  const port = await new Promise((r) => {
    const s = http.createServer().listen(0, '127.0.0.1', () => {
      const p = s.address().port;
      s.close(() => r(p));
    });
  });
  nextUrl = `http://127.0.0.1:${port}`;
  next = spawn(process.execPath, [nextBin, 'start', '-p', String(port), '-H', '127.0.0.1'], { cwd: dir, env, stdio: ['ignore', 'pipe', 'inherit'] });
  await new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error('next start: no answer in 60 s')), 60000);
    next.stdout.on('data', (d) => {
      if (/Ready|started server|Local:/i.test(String(d))) {
        clearTimeout(t);
        resolve();
      }
    });
    next.on('exit', (c) => reject(new Error(`next start exited ${c}`)));
  });
});

after(() => {
  if (next) next.kill('SIGTERM');
  if (fake) fake.close();
});

test('the server-rendered HTML already holds the items and the cursor', async () => {
  const r = await fetch(`${nextUrl}/?list=${list}`, { headers: { cookie: 'session=abc' } });
  assert.equal(r.status, 200);
  const html = await r.text();
  assert.match(html, /<li data-id="i\d+"[^>]*>.*Milk.*× <!-- -->2/s);
  assert.ok(html.includes('Eggs &amp; &lt;b&gt;bacon&lt;/b&gt;'), 'the second item, escaped');
  assert.match(html, /class="bought"/);
  const data = JSON.parse(html.match(/<script id="__NEXT_DATA__" type="application\/json">(.*?)<\/script>/s)[1]);
  const init = data.props.pageProps.initial;
  assert.equal(init.topic, topic);
  assert.equal(typeof init.cursor, 'string');
  assert.equal(init.state.items.length, 2);
  if (!REAL) assert.deepEqual(seen.cookies, ['session=abc'], 'the cookie reaches GET /state');
});

test('a topic the server does not know is a 404 page', { skip: REAL && 'the real app answers every list:NAME' }, async () => {
  const r = await fetch(`${nextUrl}/?list=missing`);
  await r.text();
  assert.equal(r.status, 404);
});

test('the rewrites stream SSE through Next (no buffering)', async () => {
  const ac = new AbortController();
  const after = REAL ? '' : '?after=EP:7';
  const r = await fetch(`${nextUrl}/stream/${topic}${after}`, { signal: ac.signal });
  assert.equal(r.status, 200);
  assert.match(r.headers.get('content-type'), /text\/event-stream/);
  const reader = r.body.getReader();
  let text = '';
  const deadline = Date.now() + 10000;
  while (!/\n\n(event: (patch|state)[^]*?\n\n)/.test(text)) {
    assert.ok(Date.now() < deadline, `no frame through the rewrite: ${JSON.stringify(text)}`);
    const { value, done } = await reader.read();
    assert.ok(!done, 'the stream ended');
    text += Buffer.from(value).toString();
  }
  ac.abort();
  if (!REAL) assert.equal(seen.after, 'EP:7');
});
