// Broken invariants crash the node (STYLE: assertions state invariants; a violation must not limp on).
// Expected operating errors are RaftlabError (shared/errors.ts); this class is never caught by drivers.

export class InvariantError extends Error {
  constructor(message: string) {
    super(`raft invariant violated: ${message}`);
    this.name = 'InvariantError';
  }
}

export function invariant(condition: boolean, message: string | (() => string)): asserts condition {
  if (!condition) throw new InvariantError(typeof message === 'string' ? message : message());
}
