// A throwaway redis-server of a test's own (never the shared one), which the test may kill and
// start again on the same port, empty: Redis restarting without its data.
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { Redis } from 'ioredis';
import { afterAll } from 'vitest';
import { freePort } from '../setup/infrastructure.js';

export interface RedisChild {
  url: string;
  port: number;
  /** SIGKILL: nothing is saved (the server keeps nothing on disk anyway). */
  kill(): Promise<void>;
  /** Starts it again on the same port, empty. */
  restart(): Promise<void>;
  /** Keys matching `pattern` (SCAN). */
  keys(pattern: string): Promise<string[]>;
}

const children = new Set<ChildProcess>();
afterAll(() => {
  for (const child of children) child.kill('SIGKILL');
});

async function ready(port: number): Promise<void> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const probe = new Redis({
      port,
      host: '127.0.0.1',
      lazyConnect: true,
      maxRetriesPerRequest: 0,
      retryStrategy: () => null,
    });
    probe.on('error', () => undefined); // refused while it starts: retried below
    try {
      await probe.connect();
      if ((await probe.ping()) === 'PONG') return;
    } catch {
      if (Date.now() > deadline) throw new Error(`redis-server on ${port} did not start`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    } finally {
      probe.disconnect();
    }
  }
}

export async function startRedisChild(): Promise<RedisChild> {
  const port = await freePort();
  let child: ChildProcess | undefined;
  const start = async () => {
    child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], {
      stdio: 'ignore',
    });
    children.add(child);
    await ready(port);
  };
  await start();
  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    kill: async () => {
      const running = child;
      if (!running || running.exitCode !== null || running.signalCode !== null) return;
      const exited = once(running, 'exit');
      running.kill('SIGKILL');
      await exited;
      children.delete(running);
    },
    restart: start,
    keys: async (pattern) => {
      const redis = new Redis({ port, host: '127.0.0.1' });
      try {
        const found: string[] = [];
        let cursor = '0';
        do {
          const [next, keys] = await redis.scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
          found.push(...keys);
          cursor = next;
        } while (cursor !== '0');
        return found;
      } finally {
        redis.disconnect();
      }
    },
  };
}
