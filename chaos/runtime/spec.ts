// Checks shared by both runtimes: a spec both can run, and node lookups that name the problem.
import { assertKnown } from './faults.js';
import { RuntimeError, type ClusterSpec } from './types.js';

/** Both runtimes name files and Docker objects after these ids; Docker allows [A-Za-z0-9][A-Za-z0-9_.-]*. */
const NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]*$/;
/** The Docker runtime gives node i the address .(11+i) of a /24. */
export const CLUSTER_NODES_MAX = 200;

export function checkSpec(spec: ClusterSpec): void {
  for (const name of [spec.runId, ...spec.nodes]) {
    if (!NAME.test(name)) throw new RuntimeError(`bad id "${name}": use letters, digits, . _ - (not first)`);
  }
  if (spec.nodes.length === 0 || spec.nodes.length > CLUSTER_NODES_MAX) {
    throw new RuntimeError(`a cluster needs 1 to ${CLUSTER_NODES_MAX} nodes, got ${spec.nodes.length}`);
  }
  if (new Set(spec.nodes).size !== spec.nodes.length) {
    throw new RuntimeError(`duplicate node ids: ${spec.nodes.join(', ')}`);
  }
}

export function requireStarted(spec: ClusterSpec | undefined): ClusterSpec {
  if (spec === undefined) throw new RuntimeError('no cluster: call start() first');
  return spec;
}

/** The runtime's record of node `id`, or a RuntimeError saying the id is unknown or not set up yet. */
export function lookupNode<T>(spec: ClusterSpec | undefined, nodes: ReadonlyMap<string, T>, id: string): T {
  assertKnown(id, new Set(requireStarted(spec).nodes));
  const node = nodes.get(id);
  if (node === undefined) throw new RuntimeError(`node ${id} has not been set up yet`);
  return node;
}
