// The one definition of "the cluster has a leader" (agreedLeader), and the looser fault target.
import { describe, expect, it } from 'vitest';
import type { NodeStatus } from './lab-deps.js';
import { agreedLeader, leaderOf } from './leader.js';

const status = (id: string, role: string, term: number, leader: string): NodeStatus => ({
  id,
  role,
  term,
  leader,
});

describe('agreedLeader', () => {
  it('is the node a majority names leader of the term it leads', () => {
    const statuses = [
      status('n1', 'follower', 3, 'n2'),
      status('n2', 'leader', 3, 'n2'),
      status('n3', 'follower', 3, 'n2'),
    ];
    expect(agreedLeader(statuses, 3)).toBe('n2');
  });

  it('does not count a cut-off node that still believes it leads an old term', () => {
    const statuses = [
      status('n1', 'leader', 2, 'n1'), // isolated, stale
      status('n2', 'follower', 3, ''),
      status('n3', 'candidate', 3, ''),
    ];
    expect(agreedLeader(statuses, 3)).toBeNull();
    // The fault target is looser: the leader of the highest term anyone knows of.
    expect(leaderOf(statuses)).toBe('n1');
  });

  it('needs a majority of the whole cluster, not of the nodes that answered', () => {
    const statuses = [status('n1', 'leader', 4, 'n1'), status('n2', 'follower', 4, 'n1')];
    expect(agreedLeader(statuses, 5)).toBeNull();
    expect(agreedLeader(statuses, 3)).toBe('n1');
  });
});
