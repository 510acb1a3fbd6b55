// For the benches that compare this client with another tree: the client
// modules (this one, and with BASELINE=DIR that checkout's client/src
// first), and an EventSource whose frames the bench dispatches itself.

import path from 'node:path';
import { pathToFileURL, fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));

/** [[name, module]]: file (e.g. 'index.js') of this client, and of BASELINE's first. */
export async function loadClients(file) {
  const clients = [['this client', path.join(here, '../src')]];
  if (process.env.BASELINE) clients.unshift(['baseline', path.resolve(process.env.BASELINE)]);
  const mods = [];
  for (const [name, dir] of clients) mods.push([name, await import(pathToFileURL(path.join(dir, file)))]);
  return mods;
}

/** An EventSource that never connects: frame() dispatches one event. */
export class BenchEventSource {
  constructor() {
    BenchEventSource.last = this;
    this.listeners = {};
    this.readyState = 1;
  }
  addEventListener(t, fn) {
    (this.listeners[t] ||= []).push(fn);
  }
  close() {}
  frame(type, data, id) {
    const ev = { type, data, lastEventId: id };
    for (const fn of this.listeners[type] || []) fn(ev);
  }
}
