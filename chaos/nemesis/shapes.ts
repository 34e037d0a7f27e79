// Partition shapes as in Jepsen, computed as grudges: node -> the nodes whose traffic it drops.
// Pure functions of the node list and a seeded Random, so a seed replays the same cuts.
import type { Random } from '../random.js';

/** node -> nodes whose traffic that node drops (both directions are cut by listing both sides). */
export type Grudge = Record<string, string[]>;

export type PartitionShape =
  | 'isolate-one'
  | 'halves'
  | 'majorities-ring'
  | 'bridge'
  | 'isolate-leader'
  /** A follower of the leader found at the start (only inside the stale-candidate schedule). */
  | 'isolate-follower';

export const PARTITION_SHAPES: readonly PartitionShape[] = [
  'isolate-one',
  'halves',
  'majorities-ring',
  'bridge',
  'isolate-leader',
];

export interface Partition {
  grudge: Grudge;
  detail: string;
  /** Nodes on the losing side (or every node, for shapes without one), for the record. */
  nodes: string[];
}

export function majority(count: number): number {
  return Math.floor(count / 2) + 1;
}

/** Each node drops every node outside its own component. */
export function grudgeFromComponents(components: readonly (readonly string[])[]): Grudge {
  const all = components.flat();
  const grudge: Grudge = {};
  for (const component of components) {
    for (const node of component) grudge[node] = all.filter((other) => !component.includes(other));
  }
  return grudge;
}

export function isolate(nodes: readonly string[], target: string): Partition {
  if (!nodes.includes(target)) throw new Error(`isolate: ${target} is not one of ${nodes.join(',')}`);
  const rest = nodes.filter((node) => node !== target);
  return { grudge: grudgeFromComponents([[target], rest]), detail: `isolate ${target}`, nodes: [target] };
}

/** A random minority cut off from the majority. */
export function halves(nodes: readonly string[], random: Random): Partition {
  const shuffled = random.shuffle(nodes);
  const minority = shuffled.slice(0, nodes.length - majority(nodes.length));
  const rest = shuffled.slice(minority.length);
  return {
    grudge: grudgeFromComponents([minority, rest]),
    detail: `halves [${minority.join(',')}] | [${rest.join(',')}]`,
    nodes: minority,
  };
}

/**
 * Every node sees a majority, but no two nodes see the same one: the nodes stand in a shuffled
 * ring and each sees the window of `majority` nodes centred on itself.
 */
export function majoritiesRing(nodes: readonly string[], random: Random): Partition {
  const ring = random.shuffle(nodes);
  const size = majority(ring.length);
  const before = Math.floor((size - 1) / 2);
  const grudge: Grudge = {};
  const windows: string[] = [];
  ring.forEach((node, i) => {
    const window = Array.from(
      { length: size },
      (_, k) => ring[(i - before + k + ring.length) % ring.length] as string,
    );
    grudge[node] = ring.filter((other) => !window.includes(other));
    windows.push(window.join('-'));
  });
  return { grudge, detail: `ring ${windows.join(' ')}`, nodes: [...ring] };
}

/** Two halves joined by one bridge node that sees both; the halves do not see each other. */
export function bridge(nodes: readonly string[], random: Random): Partition {
  const shuffled = random.shuffle(nodes);
  const left = shuffled.slice(0, Math.floor(nodes.length / 2));
  const right = shuffled.slice(left.length);
  const [bridgeNode, ...rightRest] = right;
  if (bridgeNode === undefined) throw new Error('bridge needs at least one node');
  const grudge = grudgeFromComponents([left, rightRest]);
  grudge[bridgeNode] = [];
  return {
    grudge,
    detail: `bridge [${left.join(',')}] <${bridgeNode}> [${rightRest.join(',')}]`,
    nodes: [bridgeNode],
  };
}

/** The first of `order` that is not the leader: the follower a stale-candidate schedule isolates. */
export function firstFollower(order: readonly string[], leader: string): string {
  const follower = order.find((node) => node !== leader);
  if (follower === undefined) throw new Error(`no follower of ${leader} among ${order.join(',')}`);
  return follower;
}

/** The nodes `node` can still hear from under a grudge (itself included). */
export function reachable(grudge: Grudge, nodes: readonly string[], node: string): string[] {
  const dropped = grudge[node] ?? [];
  return nodes.filter((other) => !dropped.includes(other));
}
