// The default cluster id is a hash of the members' ids and client addresses, so clusters that share
// node ids but not addresses differ, the order members are listed in does not matter, and peer
// addresses (which differ per node when peers are reached through proxies) do not count.
import { describe, expect, it } from 'vitest';
import { clusterIdOf, parseClusterId, parseClusterSpec } from '../../shared/config.js';

describe('clusterIdOf', () => {
  const a = parseClusterSpec('n1=127.0.0.1:7001/7002,n2=127.0.0.1:7003/7004,n3=127.0.0.1:7005/7006');

  it('does not depend on the order of the members', () => {
    const shuffled = parseClusterSpec('n3=127.0.0.1:7005/7006,n1=127.0.0.1:7001/7002,n2=127.0.0.1:7003/7004');
    expect(clusterIdOf(shuffled)).toBe(clusterIdOf(a));
    expect(clusterIdOf(a)).toMatch(/^c-[0-9a-f]{16}$/);
  });

  it('differs for the same node ids on other client ports, and for one member more or less', () => {
    const otherPorts = parseClusterSpec(
      'n1=127.0.0.1:8001/7002,n2=127.0.0.1:7003/7004,n3=127.0.0.1:7005/7006',
    );
    expect(clusterIdOf(otherPorts)).not.toBe(clusterIdOf(a));
    expect(clusterIdOf(a.slice(0, 2))).not.toBe(clusterIdOf(a));
  });

  it('is the same when only peer addresses differ (each node of a lab run dials its peers through its own proxies)', () => {
    const viaProxies = parseClusterSpec(
      'n1=127.0.0.1:7001/9101,n2=127.0.0.1:7003/9102,n3=127.0.0.1:7005/9103',
    );
    expect(clusterIdOf(viaProxies)).toBe(clusterIdOf(a));
  });

  it('accepts a plain explicit id and refuses an empty or odd one', () => {
    expect(parseClusterId('lab-run.42:x_y')).toBe('lab-run.42:x_y');
    expect(() => parseClusterId('')).toThrow(/--cluster-id/);
    expect(() => parseClusterId('a b')).toThrow(/--cluster-id/);
    expect(() => parseClusterId('x'.repeat(129))).toThrow(/--cluster-id/);
  });
});
