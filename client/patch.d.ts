// TypeScript declarations of statechannel-client/patch (src/patch.js):
// RFC 6902 JSON Patch applied with structural sharing.  The main entry
// ("statechannel-client", index.d.ts) re-exports all of it.

/** One RFC 6902 operation. */
export type PatchOperation =
  | { op: 'add'; path: string; value: unknown }
  | { op: 'remove'; path: string }
  | { op: 'replace'; path: string; value: unknown }
  | { op: 'move'; from: string; path: string }
  | { op: 'copy'; from: string; path: string }
  | { op: 'test'; path: string; value: unknown };

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
