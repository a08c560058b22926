import { describe, expect, it } from 'vitest';
import { clusterSeeds, redisUrls } from './redis-connection.js';

describe('clusterSeeds', () => {
  it('lists every seed node, with the default port where none is given', () => {
    expect(clusterSeeds('redis://10.0.0.1:7000, redis://10.0.0.2 ,redis://[::1]:7002').nodes).toEqual([
      { host: '10.0.0.1', port: 7000 },
      { host: '10.0.0.2', port: 6379 },
      { host: '::1', port: 7002 },
    ]);
  });

  it('gives every node the credentials and TLS of the first URL', () => {
    expect(clusterSeeds('rediss://app:s%3Acret@seed:7000,rediss://app:s%3Acret@seed2:7000').redisOptions).toEqual({
      username: 'app',
      password: 's:cret',
      tls: {},
    });
    expect(clusterSeeds('redis://seed:7000').redisOptions).toEqual({});
  });

  it('reads one URL as a list of one', () => {
    expect(redisUrls('redis://cache:6379')).toEqual(['redis://cache:6379']);
  });
});
