// The faults in force on a cluster (partition grudge, packet loss), kept by each runtime so it can
// re-apply them to a restarted node and describe them. Validation lives here so both runtimes refuse
// the same bad input with the same message.
import { RuntimeError, type Grudge } from './types.js';

export interface FaultState {
  grudge: Map<string, Set<string>>;
  lossNodes: Set<string>;
  lossProbability: number;
}

export function noFaults(): FaultState {
  return { grudge: new Map(), lossNodes: new Set(), lossProbability: 0 };
}

/** Checks every id against the cluster's nodes and copies the grudge (callers may mutate theirs). */
export function checkedGrudge(grudge: Grudge, nodes: readonly string[]): Map<string, Set<string>> {
  const known = new Set(nodes);
  const copy = new Map<string, Set<string>>();
  for (const [node, dropped] of grudge) {
    assertKnown(node, known);
    for (const other of dropped) assertKnown(other, known);
    const others = new Set([...dropped].filter((other) => other !== node));
    if (others.size > 0) copy.set(node, others);
  }
  return copy;
}

export function checkedLoss(
  nodes: readonly string[],
  probability: number,
  cluster: readonly string[],
): Set<string> {
  if (!Number.isFinite(probability) || probability < 0 || probability > 1) {
    throw new RuntimeError(`packet loss probability must be in [0, 1], got ${probability}`);
  }
  const known = new Set(cluster);
  for (const node of nodes) assertKnown(node, known);
  return new Set(probability > 0 ? nodes : []);
}

export function assertKnown(node: string, known: ReadonlySet<string>): void {
  if (!known.has(node)) throw new RuntimeError(`unknown node "${node}" (cluster: ${[...known].join(', ')})`);
}

/** True if `receiver` drops traffic from `sender` under this grudge. */
export function drops(
  grudge: ReadonlyMap<string, ReadonlySet<string>>,
  receiver: string,
  sender: string,
): boolean {
  return grudge.get(receiver)?.has(sender) ?? false;
}
