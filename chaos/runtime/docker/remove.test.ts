// The short teardown line: what was removed, counted by kind.
import { describe, expect, it } from 'vitest';
import { countByKind } from './remove.js';

describe('countByKind', () => {
  it('counts containers, networks and volumes in the order first met, with plurals', () => {
    const removed = ['container r-n1', 'container r-n2', 'network r', 'volume r-n1', 'volume r-n2'];
    expect(countByKind(removed)).toBe('2 containers, 1 network, 2 volumes');
  });

  it('says nothing for nothing', () => {
    expect(countByKind([])).toBe('');
  });
});
