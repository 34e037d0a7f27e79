// The rule between a server's timing flags, for every command that starts servers (`lab server`,
// `lab cluster start`, `lab run`): checked before anything starts, with the servers' own defaults
// for the flags not given, so a bad combination is a bad argument (254) and not a failed start.
import {
  DEFAULT_ELECTION_TIMEOUT_MS,
  DEFAULT_HEARTBEAT_INTERVAL_MS,
  DEFAULT_TICK_MS,
  ticksFromMs,
} from '../shared/config.js';

export interface ServerTiming {
  readonly tickMs?: number | undefined;
  readonly heartbeatIntervalMs?: number | undefined;
  readonly electionTimeoutMs?: number | undefined;
}

/** What the server would refuse about these timings, or undefined. */
export function serverTimingProblem(timing: ServerTiming): string | undefined {
  try {
    ticksFromMs(
      timing.tickMs ?? DEFAULT_TICK_MS,
      timing.heartbeatIntervalMs ?? DEFAULT_HEARTBEAT_INTERVAL_MS,
      timing.electionTimeoutMs ?? DEFAULT_ELECTION_TIMEOUT_MS,
    );
    return undefined;
  } catch (error) {
    return (error as Error).message;
  }
}
