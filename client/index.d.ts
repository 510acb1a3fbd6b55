// TypeScript declarations of statechannel-client.
//   "statechannel-client"        → this file (createStateChannel, getInitialState, applyPatch, …)
//   "statechannel-client/patch"  → this file (applyPatch, parsePointer, PatchError, jsonEqual)
//   "statechannel-client/react"  → react.d.ts (StateChannelProvider, useStateChannel, …)

/** One RFC 6902 operation. */
export type PatchOperation =
  | { op: 'add'; path: string; value: unknown }
  | { op: 'remove'; path: string }
  | { op: 'replace'; path: string; value: unknown }
  | { op: 'move'; from: string; path: string }
  | { op: 'copy'; from: string; path: string }
  | { op: 'test'; path: string; value: unknown };

/** A cursor: "EPOCH:SEQ" (the SSE id). */
export type Cursor = string;

/** What GET /state/{topic} answers. */
export interface Snapshot<S = unknown> {
  topic: string;
  version: number;
  cursor: Cursor;
  state: S;
}

/** What POST /events/{topic} answers. */
export interface EventAnswer {
  topic: string;
  version: number;
  cursor: Cursor;
  patch: PatchOperation[];
}

export type Status = 'connecting' | 'open' | 'reconnecting' | 'closed';
export declare const STATUSES: readonly Status[];

/** An error answered by the server (body {"error":{"code","message"}}),
 *  or code "network" when every retry failed to reach it. */
export declare class StateChannelError extends Error {
  readonly name: 'StateChannelError';
  /** The server's error code ("bad_name", "no_item", …), "network", or "http_STATUS". */
  readonly code: string;
  /** The HTTP status (0 for a network failure). */
  readonly status: number;
  readonly body: unknown;
  constructor(code: string, message: string, status: number, body?: unknown);
}

/** The constructor of an EventSource (the browser's, or e.g. the
 *  `eventsource` npm package in node). */
export interface EventSourceLike {
  readonly readyState: number;
  addEventListener(type: string, listener: (ev: { data?: string; lastEventId?: string }) => void): void;
  close(): void;
}
export type EventSourceConstructor = new (url: string, init?: { withCredentials?: boolean }) => EventSourceLike;

export type FetchLike = (input: string, init?: RequestInit) => Promise<Response>;

/** `initial` of a channel: one snapshot, an array of them, or an object
 *  keyed by topic (each {version, cursor, state}). */
export type InitialSnapshots =
  | Snapshot
  | Snapshot[]
  | Record<string, Omit<Snapshot, 'topic'> & { topic?: string }>;

export interface ChannelOptionsBase {
  /** Where the routes are mounted: "" (same origin, site root), "/app",
   *  "https://host/app".  A trailing "/" is ignored. */
  baseUrl?: string;
  /** The GET /state answers the page was rendered from: the stream then
   *  starts right after their cursor (?after=CURSOR) so nothing is missed
   *  or repeated.  Topics without one are fetched before the stream opens. */
  initial?: InitialSnapshots | null;
  /** Default: globalThis.EventSource. */
  EventSource?: EventSourceConstructor;
  /** Default: globalThis.fetch. */
  fetch?: FetchLike;
  /** Extra headers of the POSTs and GET /state (not of the stream: an
   *  EventSource cannot send headers; use cookies). */
  headers?: Record<string, string | undefined>;
  /** Passed to fetch (e.g. "include") and, when true, withCredentials of the EventSource. */
  credentials?: RequestCredentials;
  withCredentials?: boolean;
  /** Retries of push() on network failures and 502/503/504: the same
   *  idempotency id every time.  Default {attempts: 8, baseDelay: 100, maxDelay: 3000} (ms). */
  retry?: { attempts?: number; baseDelay?: number; maxDelay?: number };
  /** Backoff of reopening a stream the browser gave up on, and of resync
   *  fetches.  Default {baseDelay: 250, maxDelay: 5000} (ms). */
  reconnect?: { baseDelay?: number; maxDelay?: number };
  /** Apply the patch of push()'s answer at once when it is the next
   *  version (the same frame from the stream is then ignored).  Default true. */
  applyAnswers?: boolean;
  /** Open the stream at once (default true); false: call connect(). */
  autoConnect?: boolean;
  /** Errors that do not reject anything (a listener throwing, a patch
   *  that did not apply and caused a resync, a failed resync fetch). */
  onError?: (err: unknown) => void;
}

export interface PushOptions {
  /** The topic of the event: required when the channel has several. */
  topic?: string;
  /** The idempotency id (default: crypto.randomUUID()). */
  id?: string;
}

export interface StateChannel<S> {
  readonly topics: readonly string[];
  /** One topic: that topic's state (undefined until the first state frame
   *  when there was no `initial`).  Several topics: an object keyed by
   *  topic, the same object until one of them changes.  With a topic
   *  argument: that topic's state. */
  getState(): S;
  getState<T = unknown>(topic: string): T | undefined;
  /** A topic's version (default: the first topic). */
  getVersion(topic?: string): number | undefined;
  /** The cursor the stream would resume from. */
  getCursor(): Cursor | null;
  getStatus(): Status;
  /** Events sent and not yet answered. */
  getPending(): number;
  readonly status: Status;
  readonly pending: number;
  /** Called after every change of state, status or pending. */
  subscribe(listener: () => void): () => void;
  /** Called with each patch right after it was applied (from a stream
   *  frame or push()'s answer), before the subscribe() listeners. */
  onPatch(listener: (change: { topic: string; version: number; patch: PatchOperation[] }) => void): () => void;
  /** Called with each full state that replaced a topic's (a state frame or
   *  a resync), before the subscribe() listeners. */
  onState(listener: (change: { topic: string; version: number; state: unknown }) => void): () => void;
  /** POST /events/{topic} {"event","payload","id"}: resolves with the
   *  server's answer, rejects with a StateChannelError. */
  push(event: string, payload?: unknown, options?: PushOptions): Promise<EventAnswer>;
  /** Opens the stream (again after close(), resuming from the last cursor). */
  connect(): void;
  /** Closes the stream; status "closed". */
  close(): void;
}

export declare function createStateChannel<S = unknown>(
  options: ChannelOptionsBase & { topic: string; topics?: undefined },
): StateChannel<S | undefined>;
export declare function createStateChannel<S extends Record<string, unknown> = Record<string, unknown>>(
  options: ChannelOptionsBase & { topics: readonly string[]; topic?: undefined },
): StateChannel<{ [K in keyof S]: S[K] | undefined }>;
export default createStateChannel;

/** GET {baseUrl}/state/{topic} for server-side rendering; forward the
 *  request's cookie / authorization in `headers`.  Rejects with a
 *  StateChannelError (status 404, 403, …). */
export declare function getInitialState<S = unknown>(
  baseUrl: string,
  topic: string,
  options?: { headers?: Record<string, string | string[] | undefined>; fetch?: FetchLike },
): Promise<Snapshot<S>>;
export declare function getInitialState<S = unknown>(
  baseUrl: string,
  topics: readonly string[],
  options?: { headers?: Record<string, string | string[] | undefined>; fetch?: FetchLike },
): Promise<Snapshot<S>[]>;

/** "EPOCH:SEQ" → {epoch, seq}, or null. */
export declare function parseCursor(cursor: string): { epoch: string; seq: number } | null;

// ---- statechannel-client/patch ----

/** Applies an RFC 6902 patch; returns the new document and leaves `doc`
 *  untouched.  Only the containers on the changed paths are copied:
 *  everything else keeps its identity.  Throws a PatchError (the whole
 *  patch is discarded) when an operation fails. */
export declare function applyPatch<T = unknown>(doc: T, patch: readonly PatchOperation[]): T;
/** RFC 6901: "/a~1b/c~0d" → ["a/b", "c~d"]. */
export declare function parsePointer(pointer: string): string[];
export declare function jsonEqual(a: unknown, b: unknown): boolean;
export declare class PatchError extends Error {
  readonly name: 'PatchError';
  /** The index of the failing operation in the patch. */
  readonly index: number | undefined;
  readonly op: unknown;
}
