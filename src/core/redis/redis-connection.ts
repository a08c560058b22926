// How the service reaches Redis: one server (REDIS_URL `redis://host:port`) or a Redis Cluster
// (REDIS_CLUSTER=true, REDIS_URL listing one or more seed nodes, comma-separated). The only code
// that constructs ioredis clients: RedisService, the start-up check and BullMQ get theirs here.
import { Cluster, Redis, type ClusterOptions, type RedisOptions } from 'ioredis';

/** One Redis or a Cluster: the same commands (get, set, incr, eval, pipeline, publish, ...). */
export type RedisClient = Redis | Cluster;

export interface RedisTarget {
  /** REDIS_URL: one URL; for a Cluster, one or more seed nodes separated by commas. */
  url: string;
  cluster: boolean;
}

export interface RedisConnectOptions {
  /** For the connection, or for every node connection of a Cluster. */
  redis?: RedisOptions;
  /** Options of the Cluster itself (ignored for one Redis). */
  cluster?: Omit<ClusterOptions, 'redisOptions'>;
}

/** The URLs of a REDIS_URL value. */
export function redisUrls(value: string): string[] {
  return value
    .split(',')
    .map((part) => part.trim())
    .filter(Boolean);
}

/**
 * A Cluster's seed nodes, and what every node connection shares: the credentials and TLS of the
 * first URL (a Cluster's nodes are reached with the same ones; the others are discovered).
 */
export function clusterSeeds(value: string): { nodes: { host: string; port: number }[]; redisOptions: RedisOptions } {
  const urls = redisUrls(value).map((url) => new URL(url));
  const first = urls[0];
  const redisOptions: RedisOptions = {};
  if (first?.username) redisOptions.username = decodeURIComponent(first.username);
  if (first?.password) redisOptions.password = decodeURIComponent(first.password);
  if (first?.protocol === 'rediss:') redisOptions.tls = {};
  return {
    nodes: urls.map((url) => ({ host: url.hostname.replace(/^\[|\]$/g, ''), port: Number(url.port || 6379) })),
    redisOptions,
  };
}

export function connectRedis(target: RedisTarget, options: RedisConnectOptions = {}): RedisClient {
  if (!target.cluster) return new Redis(target.url, options.redis ?? {});
  const { nodes, redisOptions } = clusterSeeds(target.url);
  return new Cluster(nodes, { ...options.cluster, redisOptions: { ...redisOptions, ...options.redis } });
}

export const isCluster = (client: RedisClient): client is Cluster => client instanceof Cluster;
