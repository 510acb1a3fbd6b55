// A small HTTP client for the tests, and a Server-Sent Events reader that
// keeps every frame, comment and retry line it sees (parsed as the
// WHATWG EventSource spec says: fields, multi-line data, CR/LF/CRLF).
import http from 'node:http';

const agent = new http.Agent({ keepAlive: false, maxSockets: Infinity });

// One request; resolves {status, headers, text, json} (json null when the
// body is not JSON).
export function request(method, url, { body, headers = {}, timeout = 15000 } = {}) {
	return new Promise((resolve, reject) => {
		const h = { ...headers };
		let payload = body;
		if (payload !== undefined && typeof payload !== 'string' && !Buffer.isBuffer(payload)) {
			payload = JSON.stringify(payload);
			if (!Object.keys(h).some((k) => k.toLowerCase() === 'content-type')) {
				h['Content-Type'] = 'application/json';
			}
		}
		if (payload !== undefined) h['Content-Length'] = Buffer.byteLength(payload);
		const req = http.request(url, { method, headers: h, agent, timeout }, (res) => {
			const chunks = [];
			res.on('data', (c) => chunks.push(c));
			res.on('end', () => {
				const text = Buffer.concat(chunks).toString('utf8');
				let json = null;
				try { json = JSON.parse(text); } catch { /* not JSON */ }
				resolve({ status: res.statusCode, headers: res.headers, text, json });
			});
			res.on('error', reject);
		});
		req.on('timeout', () => req.destroy(new Error(`${method} ${url}: timeout`)));
		req.on('error', reject);
		if (payload !== undefined) req.write(payload);
		req.end();
	});
}

export const get = (url, opts) => request('GET', url, opts);
export const post = (url, body, opts = {}) => request('POST', url, { ...opts, body });

export class SseParser {
	constructor(onFrame, onComment, onRetry) {
		this.buf = '';
		this.reset();
		this.onFrame = onFrame;
		this.onComment = onComment;
		this.onRetry = onRetry;
	}

	reset() {
		this.event = '';
		this.data = [];
		this.id = undefined;
		this.hasData = false;
	}

	push(text) {
		this.buf += text;
		for (;;) {
			const m = /\r\n|\r|\n/.exec(this.buf);
			if (!m) break;
			// A lone CR at the very end may be the first half of CRLF.
			if (m[0] === '\r' && m.index === this.buf.length - 1) break;
			const line = this.buf.slice(0, m.index);
			this.buf = this.buf.slice(m.index + m[0].length);
			this.line(line);
		}
	}

	line(line) {
		if (line === '') {
			if (this.hasData) {
				this.onFrame({
					event: this.event || 'message',
					id: this.id,
					data: this.data.join('\n'),
				});
			}
			this.reset();
			return;
		}
		if (line.startsWith(':')) {
			this.onComment(line.slice(1).trim());
			return;
		}
		const i = line.indexOf(':');
		const field = i < 0 ? line : line.slice(0, i);
		let value = i < 0 ? '' : line.slice(i + 1);
		if (value.startsWith(' ')) value = value.slice(1);
		if (field === 'event') this.event = value;
		else if (field === 'data') { this.data.push(value); this.hasData = true; }
		else if (field === 'id') this.id = value;
		else if (field === 'retry' && /^\d+$/.test(value)) this.onRetry(Number(value));
	}
}

// An open event stream.  frames: [{event, id, data, json}] in order.
export class Stream {
	constructor() {
		this.frames = [];
		this.comments = [];
		this.retry = undefined;
		this.raw = '';
		this.ended = false;
		this.waiters = [];
		this.parser = new SseParser(
			(f) => {
				try { f.json = JSON.parse(f.data); } catch { f.json = null; }
				this.frames.push(f);
				this.wake();
			},
			(c) => { this.comments.push(c); this.wake(); },
			(r) => { this.retry = r; this.wake(); },
		);
	}

	wake() {
		for (const w of [...this.waiters]) w();
	}

	// Resolves when pred(this) is true; rejects after ms.
	until(pred, ms = 10000, what = 'condition') {
		return new Promise((resolve, reject) => {
			const check = () => {
				let ok = false;
				try { ok = pred(this); } catch (e) { finish(); reject(e); return; }
				if (ok) { finish(); resolve(this); }
				else if (this.ended) { finish(); reject(new Error(`stream ended before ${what}; got ${this.describe()}`)); }
			};
			const timer = setTimeout(() => {
				finish();
				reject(new Error(`timeout waiting for ${what}; got ${this.describe()}`));
			}, ms);
			const finish = () => {
				clearTimeout(timer);
				this.waiters = this.waiters.filter((w) => w !== check);
			};
			this.waiters.push(check);
			check();
		});
	}

	frameCount(n, ms) {
		return this.until((s) => s.frames.length >= n, ms, `${n} frames`);
	}

	describe() {
		return JSON.stringify(this.frames.map((f) => ({ event: f.event, id: f.id, data: f.data.slice(0, 200) })));
	}

	close() {
		if (this.req) this.req.destroy();
		this.ended = true;
	}
}

// Opens url as an event stream; resolves once the response headers are in.
export function openStream(url, { headers = {}, timeout = 10000 } = {}) {
	return new Promise((resolve, reject) => {
		const s = new Stream();
		const req = http.request(url, {
			method: 'GET',
			agent,
			headers: { Accept: 'text/event-stream', ...headers },
		}, (res) => {
			clearTimeout(timer);
			s.status = res.statusCode;
			s.headers = res.headers;
			res.setEncoding('utf8');
			res.on('data', (t) => { s.raw += t; s.parser.push(t); });
			res.on('end', () => { s.ended = true; s.wake(); });
			res.on('error', () => { s.ended = true; s.wake(); });
			res.on('close', () => { s.ended = true; s.wake(); });
			resolve(s);
		});
		s.req = req;
		const timer = setTimeout(() => { req.destroy(); reject(new Error(`no response from ${url}`)); }, timeout);
		req.on('error', (e) => { clearTimeout(timer); s.ended = true; s.wake(); reject(e); });
		req.end();
	});
}
