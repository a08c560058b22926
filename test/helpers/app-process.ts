// Runs the built service (dist/src/main.js or worker.js) as a real child process and waits until
// it listens. Its log lines are kept for assertions.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { afterAll, inject } from 'vitest';

/** Every process started by this test file; whatever a failed test left running is killed. */
const started = new Set<ChildProcess>();
const killLeftovers = () => {
  for (const child of started) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
};
afterAll(killLeftovers);
process.once('exit', killLeftovers);

export interface AppProcess {
  url: string;
  port: number;
  child: ChildProcess;
  /** Everything written to stdout and stderr so far. */
  output(): string;
  /** Sends a signal and waits for the exit; resolves to the exit code. */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
  exited: Promise<number | null>;
}

export interface SpawnOptions {
  env?: Record<string, string | undefined>;
  entry?: 'main' | 'worker';
  /** Wait for the "listening" (or "worker started") line; false for a start expected to fail. */
  waitForReady?: boolean;
  timeoutMs?: number;
}

/**
 * A Redis prefix of its own (under the run's), for a group of processes that must not form one
 * socket.io cluster with the processes of other test files running at the same time.
 */
export function isolatedRedisPrefix(): string {
  return `${inject('redisPrefix')}.${randomBytes(3).toString('hex')}`;
}

/** The environment of a service process wired to this test run's database and Redis. */
export function testEnv(extra: Record<string, string | undefined> = {}): Record<string, string | undefined> {
  return {
    NODE_ENV: 'test',
    DATABASE_URL: inject('databaseUrl'),
    REDIS_URL: inject('redisUrl'),
    REDIS_PREFIX: inject('redisPrefix'),
    JWT_SECRET: inject('jwtSecret'),
    PORT: '0',
    HOST: '127.0.0.1',
    LOG_LEVEL: 'info',
    DATABASE_MIGRATIONS_RUN: 'true',
    ...extra,
  };
}

export async function spawnApp(options: SpawnOptions = {}): Promise<AppProcess> {
  const entry = options.entry ?? 'main';
  const env: Record<string, string> = {};
  for (const [key, value] of Object.entries({ PATH: process.env.PATH, HOME: process.env.HOME, ...options.env })) {
    if (value !== undefined) env[key] = value;
  }
  const child = spawn(process.execPath, [`dist/src/${entry}.js`], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  started.add(child);
  let output = '';
  const exited = once(child, 'exit').then(([code]) => code as number | null);
  let port = 0;
  const listening = new Promise<number>((resolve, reject) => {
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      const match = /"port":(\d+),"role":"[a-z]+","msg":"listening/.exec(output);
      if (match) resolve(Number(match[1]));
      else if (output.includes('"msg":"worker started"')) resolve(0);
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    void exited.then((code) =>
      reject(new Error(`service exited with ${code} before listening:\n${output.slice(-3000)}`)),
    );
  });
  listening.catch(() => undefined);

  const app: AppProcess = {
    get url() {
      return `http://127.0.0.1:${port}`;
    },
    get port() {
      return port;
    },
    child,
    output: () => output,
    exited,
    stop: async (signal = 'SIGTERM') => {
      if (child.exitCode !== null || child.signalCode !== null) return child.exitCode;
      child.kill(signal);
      return exited;
    },
  };
  if (options.waitForReady ?? true) {
    const timeout = new Promise<never>((_, reject) =>
      setTimeout(
        () => reject(new Error(`service did not listen in time:\n${output.slice(-3000)}`)),
        options.timeoutMs ?? 30_000,
      ).unref(),
    );
    port = await Promise.race([listening, timeout]);
  }
  return app;
}
