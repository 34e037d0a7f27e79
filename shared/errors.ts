// Typed operating errors with stable codes, shared by the state machine, server, client and lab.
// The codes are the ErrorCode names of proto/raftlab.proto; each error says whether the operation
// definitely failed (`definite`, recorded as `fail`) or may have taken effect (recorded as `info`).

export type ErrorCodeName =
  | 'NOT_LEADER'
  | 'UNAVAILABLE'
  | 'TIMEOUT'
  | 'KEY_NOT_FOUND'
  | 'CAS_MISMATCH'
  | 'TOO_LARGE'
  | 'BAD_REQUEST'
  | 'SESSION_EXPIRED'
  | 'OVERLOADED'
  | 'CONNECTION_LOST'
  | 'SHUTTING_DOWN'
  | 'INTERNAL';

/** Whether an error of this code means the operation definitely did not happen, when nothing else is known. */
export const DEFINITE_BY_DEFAULT: Readonly<Record<ErrorCodeName, boolean>> = {
  NOT_LEADER: true,
  UNAVAILABLE: true,
  TIMEOUT: false,
  KEY_NOT_FOUND: true,
  CAS_MISMATCH: true,
  TOO_LARGE: true,
  BAD_REQUEST: true,
  SESSION_EXPIRED: false,
  OVERLOADED: true,
  CONNECTION_LOST: false,
  SHUTTING_DOWN: true,
  INTERNAL: false,
};

export interface ErrorInfo {
  readonly code: ErrorCodeName;
  readonly message: string;
  readonly definite: boolean;
  readonly leaderHint?: string;
  readonly leaderAddress?: string;
}

export class RaftlabError extends Error implements ErrorInfo {
  readonly code: ErrorCodeName;
  readonly definite: boolean;
  readonly leaderHint?: string;
  readonly leaderAddress?: string;

  constructor(
    code: ErrorCodeName,
    message: string,
    options: Partial<Omit<ErrorInfo, 'code' | 'message'>> = {},
  ) {
    super(`${code}: ${message}`);
    this.name = 'RaftlabError';
    this.code = code;
    this.definite = options.definite ?? DEFINITE_BY_DEFAULT[code];
    if (options.leaderHint !== undefined) this.leaderHint = options.leaderHint;
    if (options.leaderAddress !== undefined) this.leaderAddress = options.leaderAddress;
  }

  toInfo(): ErrorInfo {
    return {
      code: this.code,
      message: this.message,
      definite: this.definite,
      ...(this.leaderHint !== undefined ? { leaderHint: this.leaderHint } : {}),
      ...(this.leaderAddress !== undefined ? { leaderAddress: this.leaderAddress } : {}),
    };
  }
}
