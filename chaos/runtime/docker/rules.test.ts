// The iptables chain each container gets, and what goes into the server image.
import { describe, expect, it } from 'vitest';
import { noFaults } from '../faults.js';
import { chainRules } from './rules.js';
import { productionPackages } from './server-image.js';

const addresses = new Map([
  ['n1', '10.77.5.11'],
  ['n2', '10.77.5.12'],
  ['n3', '10.77.5.13'],
]);

describe('RAFTLAB chain rules', () => {
  it('with no faults the chain is declared (and so flushed) and empty', () => {
    expect(chainRules('n1', noFaults(), addresses)).toBe('*filter\n:RAFTLAB - [0:0]\nCOMMIT\n');
  });

  it('a node drops exactly the peers its grudge names', () => {
    const faults = { ...noFaults(), grudge: new Map([['n1', new Set(['n2'])]]) };
    expect(chainRules('n1', faults, addresses)).toContain('-A RAFTLAB -s 10.77.5.12/32 -j DROP');
    expect(chainRules('n1', faults, addresses)).not.toContain('10.77.5.13');
    expect(chainRules('n2', faults, addresses)).not.toContain('DROP'); // one-way: n2 drops nothing
  });

  it('loss applies on both ends of every link of a lossy node, never twice with a partition', () => {
    const faults = {
      grudge: new Map([['n2', new Set(['n1'])]]),
      lossNodes: new Set(['n1']),
      lossProbability: 0.25,
    };
    const lossy = '-m statistic --mode random --probability 0.250000 -j DROP';
    expect(chainRules('n1', faults, addresses)).toContain(`-A RAFTLAB -s 10.77.5.12/32 ${lossy}`);
    expect(chainRules('n1', faults, addresses)).toContain(`-A RAFTLAB -s 10.77.5.13/32 ${lossy}`);
    expect(chainRules('n3', faults, addresses)).toContain(`-A RAFTLAB -s 10.77.5.11/32 ${lossy}`);
    expect(chainRules('n3', faults, addresses)).not.toContain('10.77.5.12');
    expect(chainRules('n2', faults, addresses)).toContain('-A RAFTLAB -s 10.77.5.11/32 -j DROP');
    expect(chainRules('n2', faults, addresses)).not.toContain('statistic');
  });
});

describe('server image contents', () => {
  it('takes the production dependencies and what they need, never the dev tools', () => {
    const packages = productionPackages();
    expect(packages).toEqual(
      expect.arrayContaining(['node_modules/commander', 'node_modules/protobufjs', 'node_modules/dockerode']),
    );
    for (const dev of [
      'node_modules/vitest',
      'node_modules/typescript',
      'node_modules/eslint',
      'node_modules/playwright-core',
    ]) {
      expect(packages).not.toContain(dev);
    }
  });
});
