// `redis-server` from the PATH as a child process, for machines where no REDIS_URL is given.
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { InfrastructureError, isPortOpen, type EmbeddedServer } from './embedded-postgres.js';
import { sleep, stopLeftover } from './processes.js';

export interface RedisChildOptions {
  dataDir: string;
  port: number;
  /** Append-only persistence (true for `npm start`, false for throwaway test servers). */
  persistent: boolean;
  log: (line: string) => void;
}

export function hasRedisServer(): boolean {
  return spawnSync('redis-server', ['--version'], { stdio: 'ignore' }).status === 0;
}

export async function startRedisServer(options: RedisChildOptions): Promise<EmbeddedServer> {
  if (!hasRedisServer()) {
    throw new InfrastructureError(
      'REDIS_URL is not set and redis-server is not installed: install it (Debian/Ubuntu: apt-get install redis-server; macOS: brew install redis) or set REDIS_URL',
    );
  }
  const dataDir = resolve(options.dataDir);
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const pidFile = join(dataDir, 'redis.pid');
  if (await stopLeftover(pidFile, 'redis-server', 'SIGTERM')) {
    options.log(`stopped a redis-server left running by an earlier start in ${dataDir}`);
  }
  if (await isPortOpen(options.port)) {
    throw new InfrastructureError(
      `EMBEDDED_REDIS_PORT ${options.port} is already in use: set REDIS_URL to use that server, or choose another EMBEDDED_REDIS_PORT`,
    );
  }
  const args = [
    '--port',
    String(options.port),
    '--bind',
    '127.0.0.1',
    '--dir',
    dataDir,
    '--pidfile',
    pidFile,
    '--save',
    '',
    '--appendonly',
    options.persistent ? 'yes' : 'no',
    '--daemonize',
    'no',
  ];
  // Detached: a Ctrl-C in the terminal reaches only this process, which stops the child itself
  // after the application has closed its connections.
  const child = spawn('redis-server', args, { detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => {
    output = (output + chunk.toString()).slice(-4000);
  });
  child.stderr.on('data', (chunk: Buffer) => {
    output = (output + chunk.toString()).slice(-4000);
  });
  let exited = false;
  const exit = new Promise<void>((done) =>
    child.once('exit', () => {
      exited = true;
      done();
    }),
  );
  for (let waited = 0; !(await isPortOpen(options.port)); waited += 25) {
    if (exited || waited > 10000) {
      child.kill('SIGKILL');
      throw new InfrastructureError(`redis-server did not start: ${output.trim().split('\n').slice(-3).join(' | ')}`);
    }
    await sleep(25);
  }
  options.log(`redis-server started on 127.0.0.1:${options.port} (pid ${child.pid}, data in ${dataDir})`);

  return {
    url: `redis://127.0.0.1:${options.port}`,
    stop: async () => {
      if (exited) return;
      child.kill('SIGTERM');
      await Promise.race([exit, sleep(10000)]);
      if (!exited) child.kill('SIGKILL');
    },
  };
}
