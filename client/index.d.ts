// TypeScript declarations of statechannel-client.
//   "statechannel-client"        → this file (createStateChannel, getInitialState, applyPatch, …)
//   "statechannel-client/patch"  → patch.d.ts (applyPatch, parsePointer, PatchError, jsonEqual)
//   "statechannel-client/react"  → react.d.ts (StateChannelProvider, useStateChannel, …)

import type { PatchOperation } from './patch.js';
export type { PatchOperation } from './patch.js';

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

/**
 * A client-side prediction of an event: from the topic's state (never
 * change it: return a new state, sharing what did not change) and the
 * event's payload, the state the server is expected to make of it, or a
 * JSON Patch to apply to it (an array of operations; `[]` or undefined: no
 * change).  Pure: it must not read the clock or random numbers for values
 * the server decides (the server's result always replaces the prediction).
 * A mutator that throws counts as no prediction (reported to onError).
 */
export type Mutator<S = any, P = any> = (state: S, payload: P, info: { topic: string; id: string; event: string }) => S | PatchOperation[] | undefined;
export type Mutators = Record<string, Mutator>;

/** Where a pushed event is: sent (first try), sent again after a failure,
 *  answered by the server (its version not reached by the confirmed state
 *  yet), failed (a final error; its prediction is gone). */
export type PendingStatus = 'sending' | 'retrying' | 'answered' | 'failed';

/** An event pushed and not yet confirmed (or failed and not cleared). */
export interface PendingEvent {
  readonly id: string;
  readonly topic: string;
  readonly event: string;
  readonly payload: unknown;
  readonly status: PendingStatus;
  /** The final error ("failed"), or the last one that caused a retry ("retrying"). */
  readonly error?: StateChannelError;
}

/** A push: the promise of the answer, and the event's idempotency id. */
export interface PushPromise extends Promise<EventAnswer> {
  readonly id: string;
}

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
  /** Retries of push(), with the same idempotency id every time: on a
   *  network failure and on any answer that is not the application's own
   *  JSON error (a front end's 500/502/503/504, an HTML page); never on a
   *  4xx JSON error nor on a 500 "handler_failed".  A Retry-After (capped
   *  by maxRetryAfter) replaces the backoff.  Default {attempts: 8,
   *  baseDelay: 100, maxDelay: 3000, maxRetryAfter: 30000} (ms). */
  retry?: { attempts?: number; baseDelay?: number; maxDelay?: number; maxRetryAfter?: number };
  /** Optimistic updates: a mutator per event name (see Mutator); events
   *  without one are shown when the server's change arrives. */
  mutators?: Mutators;
  /** While an event with a mutator is in flight, a patch from the stream
   *  (which may be that very event) is kept under the predictions for at
   *  most this long, or until the answer comes: no change is shown twice.
   *  Default 1000 (ms); 0: rebase at once. */
  holdMs?: number;
  /** Backoff of reopening a stream the browser gave up on, and of resync
   *  fetches.  Default {baseDelay: 250, maxDelay: 5000} (ms). */
  reconnect?: { baseDelay?: number; maxDelay?: number };
  /** Apply the patch of push()'s answer at once when it is the next
   *  version (the same frame from the stream is then ignored).  Default true. */
  applyAnswers?: boolean;
  /** Keep the confirmed patches and build the state from them only when
   *  something reads it (getState(), getConfirmedState(), a mutator, the
   *  shared stream's snapshots): for adapters that keep a state of their
   *  own and apply each patch to it through onPatch (statechannel-client/solid
   *  sets it), so a frame copies nothing here.  Versions, gaps, resyncs and
   *  optimistic updates are as without it; a patch that does not apply is
   *  found when the state is built (then the state before it, and a
   *  resync).  Default false. */
  lazyState?: boolean;
  /** One stream per browser (default on when no EventSource is given):
   *  the tabs of an origin share one stream per baseUrl, through a
   *  SharedWorker, or where there is none a leader tab (Web Locks) that
   *  relays over a BroadcastChannel.  false: a stream of this channel's
   *  own.  A SharedLink (createSharedLink) to choose the transport. */
  share?: boolean | SharedLink;
  /** Called for every change of a topic's confirmed (server) state: a
   *  patch frame or POST answer applied ({type: 'patch', patch}), or a new
   *  whole state from a state frame or a resync ({type: 'state', state}).
   *  For adapters and the sharing hub; the optimistic state is getState(). */
  onUpdate?: (topic: string, update: ConfirmedUpdate) => void;
  /** Open the stream at once (default true); false: call connect(). */
  autoConnect?: boolean;
  /** Errors that do not reject anything (a listener throwing, a patch
   *  that did not apply and caused a resync, a failed resync fetch). */
  onError?: (err: unknown) => void;
}

export type ConfirmedUpdate =
  | { type: 'patch'; version: number; patch: PatchOperation[]; cursor: Cursor | null }
  | { type: 'state'; version: number; state: unknown; cursor: Cursor | null };

/** A tab's side of a shared stream (statechannel-client/shared). */
export interface SharedLink {
  readonly mode: 'worker' | 'leader';
  /** Leader mode: whether this tab holds the stream now. */
  readonly leader: boolean;
  /** This tab leaves the sharing (its streams close; a leader hands over). */
  close(): void;
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
  /** Events pushed and not confirmed yet, in push order, and failed ones
   *  until clearFailed() (the same frozen array until it changes). */
  getPendingEvents(): readonly PendingEvent[];
  /** The server's state of a topic (default: the first), without the
   *  predictions that getState() shows on top of it. */
  getConfirmedState<T = unknown>(topic?: string): T | undefined;
  /** Whether getState(topic) (default: the first) shows predictions of
   *  pending events, i.e. is not the confirmed state. */
  isOptimistic(topic?: string): boolean;
  /** A pending status, "confirmed" (the confirmed state holds the event;
   *  the last 1,024 are remembered), or undefined (unknown id). */
  getEventStatus(id: string): PendingStatus | 'confirmed' | undefined;
  isConfirmed(id: string): boolean;
  /** Drops a failed event from getPendingEvents() (all failed ones without an id). */
  clearFailed(id?: string): void;
  readonly status: Status;
  readonly pending: number;
  readonly pendingEvents: readonly PendingEvent[];
  /** Called after every change of state, status or pending. */
  subscribe(listener: () => void): () => void;
  /** Called with each patch right after it was applied (the confirmed state: a stream
   *  frame or push()'s answer; not the mutators' predictions), before the subscribe() listeners. */
  onPatch(listener: (change: { topic: string; version: number; patch: PatchOperation[] }) => void): () => void;
  /** Called with each full state that replaced a topic's (a state frame or
   *  a resync), before the subscribe() listeners. */
  onState(listener: (change: { topic: string; version: number; state: unknown }) => void): () => void;
  /** POST /events/{topic} {"event","payload","id"}: the event's mutator,
   *  if any, is applied at once (getState() and the subscribers see it
   *  before this returns).  Resolves with the server's answer, rejects
   *  with a StateChannelError (the prediction is then gone). */
  push(event: string, payload?: unknown, options?: PushOptions): PushPromise;
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

/** How push() reads one answer: {ok: body} | {final: error} | {retry: error, after: ms | null}. */
export declare function classifyAnswer(
  res: { ok: boolean; status: number; statusText?: string; headers?: { get(name: string): string | null } },
  text: string,
): { ok: unknown } | { final: StateChannelError } | { retry: StateChannelError; after: number | null };
/** Whether a mutator's result is read as a JSON Patch. */
export declare function isPatch(value: unknown): value is PatchOperation[];

/** "EPOCH:SEQ" → {epoch, seq}, or null. */
export declare function parseCursor(cursor: string): { epoch: string; seq: number } | null;

// ---- statechannel-client/shared ----

/** A shared link for baseUrl (the default one of a channel is made for
 *  you).  deps: mode 'worker' | 'leader' and the browser APIs to use (for
 *  tests), workerUrl (where ./src/shared-worker.js is served, when a
 *  bundler moved it), workerTimeout (ms to wait for the worker's first
 *  answer before falling back to a leader tab; default 5000, 0: wait). */
export declare function createSharedLink(
  baseUrl: string,
  deps?: {
    mode?: 'worker' | 'leader';
    workerUrl?: string | URL;
    workerTimeout?: number;
    withCredentials?: boolean;
    SharedWorker?: unknown;
    BroadcastChannel?: unknown;
    locks?: unknown;
    EventSource?: EventSourceConstructor;
    fetch?: FetchLike;
  },
): SharedLink | null;

// ---- statechannel-client/patch (patch.d.ts), also exported here ----
export { applyPatch, parsePointer, jsonEqual, PatchError } from './patch.js';
