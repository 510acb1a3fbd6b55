// bench/post_cost.mjs — a FastCGI client for bench/post_cost.sh: sends
// N POST /events requests, one after the other on one connection
// (FCGI_KEEP_CONN), to the app listening on HOST:PORT, and checks each
// answer is a 200.  node bench/post_cost.mjs HOST PORT N TOPIC
import net from 'node:net';

const [host, port, n, topic] = [process.argv[2], Number(process.argv[3]), Number(process.argv[4]), process.argv[5]];

function record(type, content) {
  const h = Buffer.alloc(8);
  h.writeUInt8(1, 0); // version
  h.writeUInt8(type, 1);
  h.writeUInt16BE(1, 2); // request id
  h.writeUInt16BE(content.length, 4);
  return Buffer.concat([h, content]);
}

function pair(k, v) {
  const len = (x) => (x.length < 128 ? Buffer.from([x.length]) : (() => { const b = Buffer.alloc(4); b.writeUInt32BE(x.length | 0x80000000); return b; })());
  const kb = Buffer.from(k), vb = Buffer.from(v);
  return Buffer.concat([len(kb), len(vb), kb, vb]);
}

function request(body) {
  const path = `/events/${topic}`;
  const params = {
    REQUEST_METHOD: 'POST', SCRIPT_NAME: '', PATH_INFO: path, REQUEST_URI: path,
    CONTENT_TYPE: 'application/json', CONTENT_LENGTH: String(Buffer.byteLength(body)),
    SERVER_PROTOCOL: 'HTTP/1.1', GATEWAY_INTERFACE: 'CGI/1.1', REMOTE_ADDR: '127.0.0.1', HTTP_HOST: 'bench',
  };
  const begin = Buffer.from([0, 1, 1, 0, 0, 0, 0, 0]); // responder, FCGI_KEEP_CONN
  return Buffer.concat([
    record(1, begin),
    record(4, Buffer.concat(Object.entries(params).map(([k, v]) => pair(k, v)))),
    record(4, Buffer.alloc(0)),
    record(5, Buffer.from(body)),
    record(5, Buffer.alloc(0)),
  ]);
}

const sock = net.connect(port, host);
let buf = Buffer.alloc(0), out = '', done = 0, pending = null;
sock.on('data', (d) => {
  buf = Buffer.concat([buf, d]);
  while (buf.length >= 8) {
    const type = buf[1], len = buf.readUInt16BE(4), pad = buf[6];
    if (buf.length < 8 + len + pad) break;
    const content = buf.subarray(8, 8 + len);
    buf = buf.subarray(8 + len + pad);
    if (type === 6) out += content.toString();
    if (type === 3) { const r = pending; pending = null; r(out); out = ''; }
  }
});
const send = (body) => new Promise((resolve) => { pending = resolve; sock.write(request(body)); });
await new Promise((resolve, reject) => { sock.once('connect', resolve); sock.once('error', reject); });
const first = await send('{"event":"add","payload":{"name":"toggle me"}}');
if (!/^Status: 200/.test(first)) { console.error(`post_cost: the first POST got: ${first.slice(0, 200)}`); process.exit(1); }
for (let i = 0; i < n; i++) {
  const a = await send('{"event":"toggle","payload":{"id":"i1"}}');
  if (!/^Status: 200/.test(a)) { console.error(`post_cost: POST ${i} got: ${a.slice(0, 200)}`); process.exit(1); }
  done++;
}
sock.end();
console.log(done);
