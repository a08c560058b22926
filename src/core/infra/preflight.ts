// Before the application is built, check that PostgreSQL and Redis answer, retrying briefly (a
// server may still be starting). Failure names the variable, so the process can stop with one line.
import { Redis } from 'ioredis';
import pg from 'pg';
import { InfrastructureError } from './embedded-postgres.js';
import { sleep } from './processes.js';

function describe(error: unknown): string {
  const e = error as NodeJS.ErrnoException & { errors?: NodeJS.ErrnoException[] };
  const code = e.code ?? e.errors?.[0]?.code;
  return code ? `${code}${e.message && !e.message.includes(code) ? `: ${e.message}` : ''}` : String(e.message ?? error);
}

function where(url: string): string {
  const parsed = new URL(url);
  return `${parsed.hostname}:${parsed.port || '(default port)'}${parsed.pathname}`;
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

export async function checkRedis(variable: string, url: string, timeoutMs: number): Promise<void> {
  try {
    await retryUntil(timeoutMs, async () => {
      const client = new Redis(url, {
        lazyConnect: true,
        connectTimeout: Math.min(timeoutMs, 5000),
        maxRetriesPerRequest: 0,
        retryStrategy: () => null,
      });
      client.on('error', () => undefined);
      try {
        await client.connect();
        await client.ping();
      } finally {
        client.disconnect();
      }
    });
  } catch (error) {
    throw new InfrastructureError(`${variable}: cannot connect to Redis at ${where(url)} (${describe(error)})`);
  }
}
