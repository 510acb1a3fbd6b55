// In node with a real EventSource (the `eventsource` package) against a
// small SSE server: frames parsed from the wire, the stream cut and resumed
// by the EventSource itself with Last-Event-ID, several topics on one
// connection, and push() through real fetch.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { EventSource } from 'eventsource';
import { createStateChannel } from '../src/index.js';
import { until } from './fakes.mjs';

function server() {
  const log = []; // { seq, topic, version, patch }
  const versions = { a: 1, b: 1 };
  const requests = [];
  const subs = new Set();
  const send = (res, l) => res.write(`event: patch\nid: E:${l.seq}\ndata: ${JSON.stringify({ topic: l.topic, version: l.version, patch: l.patch })}\n\n`);
  const srv = http.createServer((req, res) => {
    const u = new URL(req.url, 'http://x');
    requests.push({ url: req.url, lastEventId: req.headers['last-event-id'] });
    if (u.pathname === '/stream') {
      const topics = u.searchParams.getAll('topic');
      const after = Number((req.headers['last-event-id'] || u.searchParams.get('after') || 'E:0').split(':')[1]);
      res.writeHead(200, { 'Content-Type': 'text/event-stream' });
      res.write('retry: 50\n\n');
      for (const l of log) if (l.seq > after && topics.includes(l.topic)) send(res, l);
      subs.add(res);
      req.on('close', () => subs.delete(res));
      return;
    }
    if (u.pathname.startsWith('/events/') && req.method === 'POST') {
      let body = '';
      req.on('data', (d) => (body += d));
      req.on('end', () => {
        const { payload } = JSON.parse(body);
        const topic = u.pathname.slice(8);
        const l = { seq: log.length + 1, topic, version: ++versions[topic], patch: [{ op: 'add', path: '/items/-', value: payload }] };
        log.push(l);
        for (const s of subs) send(s, l);
        res.writeHead(200, { 'Content-Type': 'application/json' });
        res.end(JSON.stringify({ topic, version: l.version, cursor: `E:${l.seq}`, patch: l.patch }));
      });
      return;
    }
    res.writeHead(404, { 'Content-Type': 'application/json' });
    res.end('{"error":{"code":"not_found","message":"no route"}}');
  });
  return {
    log,
    requests,
    cut: () => {
      for (const s of subs) s.destroy();
    },
    listen: () => new Promise((r) => srv.listen(0, '127.0.0.1', () => r(`http://127.0.0.1:${srv.address().port}`))),
    close: () => new Promise((r) => (srv.closeAllConnections(), srv.close(r))),
  };
}

test('a real EventSource: two topics on one connection, resumed with Last-Event-ID after a cut', async () => {
  const s = server();
  const base = await s.listen();
  const ch = createStateChannel({
    baseUrl: base,
    topics: ['a', 'b'],
    initial: [
      { topic: 'a', version: 1, cursor: 'E:0', state: { items: [] } },
      { topic: 'b', version: 1, cursor: 'E:0', state: { items: [] } },
    ],
    EventSource,
  });
  try {
    await until(() => ch.status === 'open', 5000);
    assert.equal(s.requests[0].url, '/stream?topic=a&topic=b&after=E:0');
    await ch.push('add', 'x', { topic: 'a' });
    await ch.push('add', 'y', { topic: 'b' });
    await until(() => ch.getCursor() === 'E:2', 5000);
    s.cut();
    await until(() => ch.status === 'reconnecting', 5000);
    // while it is cut: changes it must get on resume
    await fetch(`${base}/events/a`, { method: 'POST', body: JSON.stringify({ event: 'add', payload: 'z' }) });
    await until(() => ch.getCursor() === 'E:3' && ch.status === 'open', 5000);
    const resume = s.requests.filter((r) => r.url.startsWith('/stream')).at(-1);
    assert.equal(resume.lastEventId, 'E:2');
    assert.deepEqual(ch.getState(), { a: { items: ['x', 'z'] }, b: { items: ['y'] } });
    assert.equal(ch.getVersion('a'), 3);
  } finally {
    ch.close();
    await s.close();
  }
});
