import { describe, expect, it } from 'vitest';
import { Random } from '../random.js';
import {
  bridge,
  grudgeFromComponents,
  halves,
  isolate,
  majoritiesRing,
  majority,
  reachable,
} from './shapes.js';

const five = ['n1', 'n2', 'n3', 'n4', 'n5'];

/** Cuts are symmetric: if a drops b, b drops a. */
function expectSymmetric(grudge: Record<string, string[]>): void {
  for (const [node, dropped] of Object.entries(grudge)) {
    for (const other of dropped) expect(grudge[other], `${other} drops ${node}`).toContain(node);
  }
}

describe('partition shapes', () => {
  it('isolating one node cuts it from every other node and nothing else', () => {
    const { grudge } = isolate(five, 'n3');
    expect(grudge.n3).toEqual(['n1', 'n2', 'n4', 'n5']);
    for (const node of ['n1', 'n2', 'n4', 'n5']) expect(grudge[node]).toEqual(['n3']);
  });

  it('random halves put a minority against a majority with no link across', () => {
    for (let seed = 0; seed < 50; seed++) {
      const part = halves(five, new Random(seed));
      expect(part.nodes).toHaveLength(2);
      expectSymmetric(part.grudge);
      for (const node of five) {
        const sees = reachable(part.grudge, five, node);
        expect(sees.length).toBe(part.nodes.includes(node) ? 2 : 3);
      }
    }
  });

  it('in a majorities ring every node sees a majority but no two see the same one', () => {
    for (const nodes of [five, ['a', 'b', 'c'], ['a', 'b', 'c', 'd', 'e', 'f', 'g']]) {
      for (let seed = 0; seed < 20; seed++) {
        const { grudge } = majoritiesRing(nodes, new Random(seed));
        const views = nodes.map((node) => reachable(grudge, nodes, node).sort().join(','));
        for (const node of nodes) {
          const sees = reachable(grudge, nodes, node);
          expect(sees).toContain(node);
          expect(sees.length).toBe(majority(nodes.length));
        }
        expect(new Set(views).size).toBe(nodes.length);
      }
    }
  });

  it('a bridge joins two halves that cannot see each other through one node that sees all', () => {
    for (let seed = 0; seed < 30; seed++) {
      const part = bridge(five, new Random(seed));
      const [middle] = part.nodes;
      expect(middle).toBeDefined();
      expect(part.grudge[middle as string]).toEqual([]);
      expectSymmetric(part.grudge);
      const others = five.filter((node) => node !== middle);
      const sides = new Set(others.map((node) => reachable(part.grudge, five, node).sort().join(',')));
      expect(sides.size).toBe(2);
      for (const side of sides) {
        const members = side.split(',');
        expect(members).toContain(middle);
        expect(members.length).toBe(3);
      }
    }
  });

  it('grudges from components drop exactly the nodes of the other components', () => {
    expect(grudgeFromComponents([['a'], ['b', 'c']])).toEqual({ a: ['b', 'c'], b: ['a'], c: ['a'] });
  });
});
