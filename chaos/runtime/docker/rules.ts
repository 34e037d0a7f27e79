// The iptables rules that make a node drop peer traffic, in a chain of the lab's own (RAFTLAB)
// jumped to from INPUT; Docker's own chains are never touched. The whole chain is replaced in one
// `iptables-restore --noflush` (declaring the chain flushes only it), so a change is atomic.
import { drops, type FaultState } from '../faults.js';

export const CHAIN = 'RAFTLAB';
export const READY_FILE = '/run/raftlab/ready';

/** iptables-restore input for `node`'s chain under these faults; `addresses` maps node -> IPv4. */
export function chainRules(node: string, faults: FaultState, addresses: ReadonlyMap<string, string>): string {
  const lines = ['*filter', `:${CHAIN} - [0:0]`];
  for (const [peer, address] of addresses) {
    if (peer === node) continue;
    if (drops(faults.grudge, node, peer)) {
      lines.push(`-A ${CHAIN} -s ${address}/32 -j DROP`);
      continue;
    }
    // Loss on a node's link both ways: it drops from every peer, and every peer drops from it.
    const lossy = faults.lossNodes.has(node) || faults.lossNodes.has(peer);
    if (lossy && faults.lossProbability > 0) {
      const p = faults.lossProbability.toFixed(6);
      lines.push(`-A ${CHAIN} -s ${address}/32 -m statistic --mode random --probability ${p} -j DROP`);
    }
  }
  lines.push('COMMIT', '');
  return lines.join('\n');
}

/**
 * The shell script run in the container: replace the chain, make sure INPUT jumps to it (once),
 * then signal the entrypoint that the server may start. RULES comes in through the environment.
 */
export const APPLY_SCRIPT = [
  'set -e',
  'printf "%s" "$RULES" | iptables-restore --noflush',
  `iptables -C INPUT -j ${CHAIN} 2>/dev/null || iptables -I INPUT 1 -j ${CHAIN}`,
  `: > ${READY_FILE}`,
].join('\n');
