// The HTTP side of statechannel-client: the error type, reading an answer,
// and sending one event with retries.
//
// Which answers are final and which are sent again (with the same
// idempotency id, so the server stores the event at most once):
//
//   answer                                             push
//   2xx with a JSON body                               resolves
//   4xx with the contract's JSON error                 final: rejects with it
//     {"error":{"code":"...","message":"..."}}         (the application's own
//                                                      answer: 422 rejected,
//                                                      400, 403, 404, 413…)
//   500 with the JSON error code "handler_failed"      final (the handler
//                                                      failed; sending again
//                                                      fails again)
//   any other 5xx (JSON or not: a front end's 500,     sent again after a
//     502, 503, 504; the store's 503 "busy")           backoff, or after
//                                                      Retry-After when the
//                                                      answer has one
//   an answer that is not the contract's JSON (an      sent again
//     HTML error page of a proxy, any status)
//   a network failure (fetch throws)                   sent again
//
// After `attempts` tries the last error rejects the push.

/** An error answered by the server ({"error":{"code","message"}}) or a
 *  network failure (code "network"). */
export class StateChannelError extends Error {
  constructor(code, message, status, body) {
    super(message);
    this.name = 'StateChannelError';
    this.code = code;
    this.status = status;
    this.body = body;
  }
}

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** A random delay in [d/2, d) with d = min(max, base * 2^attempt). */
export function backoff(attempt, base, max) {
  const d = Math.min(max, base * 2 ** attempt);
  return d / 2 + Math.random() * (d / 2);
}

function parseJSON(text) {
  try {
    return text ? JSON.parse(text) : null;
  } catch {
    return null;
  }
}

/** The contract's {"error":{"code","message"}} in body, or null. */
function contractError(body) {
  const e = body !== null && typeof body === 'object' ? body.error : null;
  return e !== null && typeof e === 'object' && typeof e.code === 'string' ? e : null;
}

function errorFrom(res, body) {
  const e = contractError(body);
  return new StateChannelError(
    (e && e.code) || `http_${res.status}`,
    (e && typeof e.message === 'string' && e.message) || `${res.status} ${res.statusText || ''}`.trim(),
    res.status,
    body,
  );
}

/** The body of a 2xx JSON answer; anything else throws a StateChannelError. */
export async function readAnswer(res) {
  const body = parseJSON(await res.text());
  if (!res.ok) throw errorFrom(res, body);
  if (body === null) throw new StateChannelError('bad_answer', 'the server did not answer JSON', res.status);
  return body;
}

/**
 * What one answer means for a push: { ok: body } | { final: error } |
 * { retry: error, after: ms | null }.
 */
export function classifyAnswer(res, text) {
  const body = parseJSON(text);
  if (res.ok && body !== null && typeof body === 'object') return { ok: body };
  const err = res.ok ? new StateChannelError('bad_answer', 'the server did not answer JSON', res.status, text) : errorFrom(res, body);
  const own = contractError(body) !== null;
  if (own && res.status >= 400 && res.status < 500) return { final: err };
  if (own && res.status === 500 && err.code === 'handler_failed') return { final: err };
  return { retry: err, after: retryAfter(res) };
}

/** Retry-After (seconds or an HTTP date) in ms, or null. */
export function retryAfter(res) {
  const v = res.headers && typeof res.headers.get === 'function' ? res.headers.get('Retry-After') : null;
  if (v === null || v === undefined || v === '') return null;
  if (/^\s*\d+\s*$/.test(v)) return Number(v) * 1000;
  const t = Date.parse(v);
  return Number.isFinite(t) ? Math.max(0, t - Date.now()) : null;
}

/**
 * POSTs body to url until the answer is final (see the table above).
 * retry: { attempts, baseDelay, maxDelay, maxRetryAfter }; onRetry(err) is
 * called before every new attempt, which waits wait(ms) first.  Resolves
 * with the answer's body; rejects with a StateChannelError.
 */
export async function postWithRetry(doFetch, url, init, retry, onRetry, wait = sleep) {
  for (let attempt = 0; ; attempt++) {
    const last = attempt + 1 >= retry.attempts;
    let verdict;
    try {
      const res = await doFetch(url, init);
      verdict = classifyAnswer(res, await res.text());
    } catch (err) {
      // A network failure (or a body cut off): the event may or may not
      // have been stored; the idempotency id makes sending it again safe.
      verdict = { retry: new StateChannelError('network', String((err && err.message) || err), 0), after: null };
    }
    if (verdict.ok) return verdict.ok;
    if (verdict.final) throw verdict.final;
    if (last) throw verdict.retry;
    onRetry(verdict.retry);
    await wait(verdict.after !== null ? Math.min(verdict.after, retry.maxRetryAfter) : backoff(attempt, retry.baseDelay, retry.maxDelay));
  }
}
