// The short teardown line: what was removed, counted by kind.
import { describe, expect, it } from 'vitest';
import { countByKind, type Removed } from './remove.js';

describe('countByKind', () => {
  it('counts containers, networks and volumes in the order first met, with plurals', () => {
    const removed: Removed[] = [
      { kind: 'container', name: 'r-n1' },
      { kind: 'container', name: 'r-n2' },
      { kind: 'network', name: 'r' },
      { kind: 'volume', name: 'r-n1' },
      { kind: 'volume', name: 'r-n2' },
    ];
    expect(countByKind(removed)).toBe('2 containers, 1 network, 2 volumes');
  });

  it('says nothing for nothing', () => {
    expect(countByKind([])).toBe('');
  });
});
