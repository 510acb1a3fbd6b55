// push()'s retry table (src/http.js): what is sent again with the same id,
// what is final, and how long it waits.
import { test, beforeEach } from 'node:test';
import assert from 'node:assert/strict';
import { createStateChannel, classifyAnswer, StateChannelError } from '../src/index.js';
import { postWithRetry } from '../src/http.js';
import { FakeEventSource as ES, fakeFetch, json } from './fakes.mjs';

beforeEach(() => ES.reset());

const html = (status, headers = {}) => () => new Response(`<html><body><h1>${status}</h1></body></html>`, { status, headers: { 'Content-Type': 'text/html', ...headers } });
const err = (status, code, headers) => () => json(status, { error: { code, message: `${code} says no` } }, headers);
const answer = () => json(200, { topic: 't', version: 2, cursor: 'E:2', patch: [] });
const down = () => {
  throw new TypeError('fetch failed');
};

// [what the server (or what is in front of it) answers, retried?, the error code push rejects with]
const table = [
  ['network failure', down, true, 'network'],
  ["a front end's 500 (HTML)", html(500), true, 'http_500'],
  ["a front end's 502 (HTML)", html(502), true, 'http_502'],
  ["a front end's 503 (HTML)", html(503), true, 'http_503'],
  ["a front end's 504 (HTML)", html(504), true, 'http_504'],
  ["a front end's 404 (HTML)", html(404), true, 'http_404'],
  ["a front end's 413 (text)", () => new Response('too big', { status: 413 }), true, 'http_413'],
  ['a 200 that is not JSON (a portal page)', html(200), true, 'bad_answer'],
  ['a 500 JSON error other than handler_failed', err(500, 'internal'), true, 'internal'],
  ["the store's 503 JSON (busy)", err(503, 'busy'), true, 'busy'],
  ['a JSON body without the error shape (503)', () => json(503, { message: 'nope' }), true, 'http_503'],
  ['422 rejected by the application', err(422, 'bad_name'), false, 'bad_name'],
  ['400 bad_json', err(400, 'bad_json'), false, 'bad_json'],
  ['403 forbidden', err(403, 'forbidden'), false, 'forbidden'],
  ['404 no_topic', err(404, 'no_topic'), false, 'no_topic'],
  ['413 too_big (JSON)', err(413, 'too_big'), false, 'too_big'],
  ['429 JSON', err(429, 'too_many'), false, 'too_many'],
  ['500 handler_failed', err(500, 'handler_failed'), false, 'handler_failed'],
];

for (const [what, first, retried, code] of table) {
  test(`push after ${what}: ${retried ? 'sent again with the same id' : 'final, not sent again'}`, async () => {
    const fetch = fakeFetch((call, i) => (i === 0 ? first() : answer()));
    const ch = createStateChannel({ topic: 't', initial: { topic: 't', version: 1, cursor: 'E:1', state: {} }, EventSource: ES, fetch, retry: { attempts: 2, baseDelay: 1, maxDelay: 1 } });
    const p = ch.push('e', { x: 1 });
    if (retried) {
      const a = await p;
      assert.equal(a.version, 2);
      assert.equal(fetch.calls.length, 2);
      assert.equal(fetch.calls[1].body.id, fetch.calls[0].body.id, 'the same idempotency id');
      assert.equal(fetch.calls[1].body.id, p.id);
    } else {
      await assert.rejects(p, (e) => e instanceof StateChannelError && e.code === code);
      assert.equal(fetch.calls.length, 1);
    }
    ch.close();
  });
  if (retried) {
    test(`push after ${what} every time: rejects with ${code} after the last attempt`, async () => {
      const fetch = fakeFetch(() => first());
      const ch = createStateChannel({ topic: 't', EventSource: ES, fetch, retry: { attempts: 3, baseDelay: 1, maxDelay: 1 } });
      await assert.rejects(ch.push('e', {}), (e) => e instanceof StateChannelError && e.code === code);
      assert.equal(fetch.calls.length, 3);
      ch.close();
    });
  }
}

test('Retry-After on a 503 sets the wait (seconds or a date), capped by maxRetryAfter; without it, the backoff', async () => {
  const run = async (headers, retry = {}) => {
    let n = 0;
    const waits = [];
    const f = async () => (n++ === 0 ? new Response('busy', { status: 503, headers }) : json(200, { ok: true }));
    const body = await postWithRetry(f, '/events/t', {}, { attempts: 3, baseDelay: 100, maxDelay: 3000, maxRetryAfter: 30000, ...retry }, () => {}, async (ms) => waits.push(ms));
    assert.deepEqual(body, { ok: true });
    return waits;
  };
  assert.deepEqual(await run({ 'Retry-After': '2' }), [2000]);
  assert.deepEqual(await run({ 'Retry-After': '120' }), [30000]);
  assert.deepEqual(await run({ 'Retry-After': '120' }, { maxRetryAfter: 5000 }), [5000]);
  assert.deepEqual(await run({ 'Retry-After': new Date(Date.now() + 60000).toUTCString() }), [30000], 'a date 60 s ahead, capped');
  const [d] = await run({ 'Retry-After': new Date(Date.now() + 5000).toUTCString() });
  assert.ok(d > 3000 && d <= 5000, `a date 5 s ahead (whole seconds): ${d}`);
  const [b] = await run({});
  assert.ok(b >= 50 && b < 100, `the first backoff is in [base/2, base): ${b}`);
  // the same on a JSON 503 of the store
  let n = 0;
  const waits = [];
  const f = async () => (n++ === 0 ? json(503, { error: { code: 'busy', message: 'busy' } }, { 'Retry-After': '1' }) : json(200, {}));
  await postWithRetry(f, '/x', {}, { attempts: 2, baseDelay: 1, maxDelay: 1, maxRetryAfter: 30000 }, () => {}, async (ms) => waits.push(ms));
  assert.deepEqual(waits, [1000]);
});

test('classifyAnswer: the verdicts', () => {
  const r = (status, headers) => ({ ok: status >= 200 && status < 300, status, statusText: '', headers: new Headers(headers) });
  assert.deepEqual(classifyAnswer(r(200), '{"version":1}'), { ok: { version: 1 } });
  assert.equal(classifyAnswer(r(422), '{"error":{"code":"bad_name","message":"m"}}').final.code, 'bad_name');
  const v = classifyAnswer(r(503, { 'Retry-After': '3' }), '<html>');
  assert.equal(v.retry.code, 'http_503');
  assert.equal(v.after, 3000);
  assert.equal(classifyAnswer(r(502), '').after, null);
});
