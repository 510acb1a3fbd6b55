// statechannel-client/shared: one stream per browser, shared by the tabs
// of an origin (see README.md, "One stream per browser").  The channel
// uses it by default; these are the parts an application may call.
import type { SharedLink } from './index.js';

export type { SharedLink } from './index.js';

export { createSharedLink } from './index.js';

/** The shared link of this tab for baseUrl (made once per baseUrl and
 *  credentials), or null when the browser can share nothing. */
export declare function sharedLink(baseUrl: string, withCredentials?: boolean): SharedLink | null;

/** The topics of a stream URL (/stream/T or /stream?topic=a&topic=b). */
export declare function streamTopics(url: string): string[];

/** The hub of a shared stream: one channel over the union of its members'
 *  topics; send(msg) delivers a message to the members it names. */
export declare function createHub(options: {
  baseUrl: string;
  withCredentials?: boolean;
  EventSource?: unknown;
  fetch?: unknown;
  send: (msg: unknown) => void;
  debounce?: number;
}): { join(msg: unknown): void; leave(id: string): void; close(): void };

/** The SharedWorker's side: serves every tab that connects (scope: the
 *  worker's global). */
export declare function serveSharedWorker(scope: unknown): void;
