// Before the application is built, check that PostgreSQL and Redis answer, retrying briefly (a
// server may still be starting). Failure names the variable, so the process can stop with one line.
import type { Cluster, Redis } from 'ioredis';
import pg from 'pg';
import { connectRedis, redisUrls, type RedisClient } from '../redis/redis-connection.js';
import { InfrastructureError } from './embedded-postgres.js';
import { sleep } from './processes.js';

function describe(error: unknown): string {
  const e = error as NodeJS.ErrnoException & { errors?: NodeJS.ErrnoException[] };
  const code = e.code ?? e.errors?.[0]?.code;
  return code ? `${code}${e.message && !e.message.includes(code) ? `: ${e.message}` : ''}` : String(e.message ?? error);
}

function where(url: string): string {
  return redisUrls(url)
    .map((part) => {
      const parsed = new URL(part);
      return `${parsed.hostname}:${parsed.port || '(default port)'}${parsed.pathname}`;
    })
    .join(', ');
}

async function retryUntil(deadlineMs: number, attempt: () => Promise<void>): Promise<void> {
  const deadline = Date.now() + deadlineMs;
  for (;;) {
    try {
      await attempt();
      return;
    } catch (error) {
      if (Date.now() + 500 > deadline) throw error;
      await sleep(500);
    }
  }
}

export async function checkPostgres(variable: string, url: string, timeoutMs: number): Promise<void> {
  try {
    await retryUntil(timeoutMs, async () => {
      const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: Math.min(timeoutMs, 5000) });
      try {
        await client.connect();
        await client.query('SELECT 1');
      } finally {
        await client.end().catch(() => undefined);
      }
    });
  } catch (error) {
    throw new InfrastructureError(`${variable}: cannot connect to PostgreSQL at ${where(url)} (${describe(error)})`);
  }
}

/**
 * One Redis answers PING and is not a Cluster node; or (`cluster`) the seed nodes lead to a
 * Cluster whose state is ok and whose every master answers PING.
 */
export async function checkRedis(variable: string, url: string, timeoutMs: number, cluster = false): Promise<void> {
  let misconfigured: string | undefined;
  try {
    await retryUntil(timeoutMs, async () => {
      const client = connectRedis(
        { url, cluster },
        {
          redis: {
            lazyConnect: true,
            connectTimeout: Math.min(timeoutMs, 5000),
            maxRetriesPerRequest: 0,
            retryStrategy: () => null,
          },
          cluster: { lazyConnect: true, clusterRetryStrategy: () => null },
        },
      );
      client.on('error', () => undefined);
      try {
        await connectWithin(client, Math.min(timeoutMs, 5000));
        if (cluster) await checkClusterState(client as Cluster);
        else misconfigured = await clusterNodeAsStandalone(client as Redis);
      } finally {
        client.disconnect();
      }
    });
  } catch (error) {
    const kind = cluster ? 'Redis Cluster' : 'Redis';
    throw new InfrastructureError(`${variable}: cannot connect to ${kind} at ${where(url)} (${describe(error)})`);
  }
  if (misconfigured) throw new InfrastructureError(`${variable}: ${misconfigured}`);
}

/**
 * ioredis's Cluster.connect() stays pending for good when the seeds know no slots (a cluster not
 * yet created), and then nothing keeps the process alive: it would exit 0 without a word.
 */
async function connectWithin(client: RedisClient, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`not ready within ${ms} ms: are the cluster's slots assigned?`)), ms);
  });
  try {
    await Promise.race([client.connect(), late]);
  } finally {
    clearTimeout(timer);
  }
}

/** A Cluster node used as one Redis would answer MOVED for most keys. */
async function clusterNodeAsStandalone(client: Redis): Promise<string | undefined> {
  await client.ping();
  // Some managed services refuse INFO; then there is nothing more to learn here.
  const info = await client.info('cluster').catch(() => '');
  return /cluster_enabled:1/.test(info) ? 'is a Redis Cluster node: set REDIS_CLUSTER=true' : undefined;
}

/** A Cluster just created or failing over is not ok yet: retried until the deadline. */
async function checkClusterState(client: Cluster): Promise<void> {
  const info = String(await client.cluster('INFO'));
  const state = /cluster_state:(\w+)/.exec(info)?.[1];
  if (state !== 'ok') throw new Error(`cluster_state is ${state ?? 'unknown'}`);
  await Promise.all(client.nodes('master').map((node) => node.ping()));
}
