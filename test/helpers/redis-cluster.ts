// A throwaway Redis Cluster for e2e tests: three `redis-server --cluster-enabled yes` children on
// free ports, each in a temp directory of its own, joined by `redis-cli --cluster create` (three
// masters, no replicas). Every wait is bounded; stop() kills the children and removes the dirs.
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { Redis } from 'ioredis';
import { freePort, tempDir } from '../setup/infrastructure.js';

export interface LocalCluster {
  /** REDIS_URL for REDIS_CLUSTER=true: every node as a seed. */
  url: string;
  ports: number[];
  /** Runs `fn` with a plain connection to each node (they are all masters). */
  eachNode<T>(fn: (node: Redis, port: number) => Promise<T>): Promise<T[]>;
  stop(): Promise<void>;
}

const children = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of children) child.kill('SIGKILL');
});

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function isBindable(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

/** A free port whose cluster bus port (port + 10000) is free too. */
async function freeNodePort(taken: Set<number>): Promise<number> {
  for (let tries = 0; tries < 50; tries += 1) {
    const port = await freePort();
    if (port + 10000 > 65535 || taken.has(port) || !(await isBindable(port + 10000))) continue;
    taken.add(port);
    return port;
  }
  throw new Error('no free port pair for a cluster node');
}

async function waitUntil(what: string, deadline: number, check: () => Promise<boolean>): Promise<void> {
  for (;;) {
    if (await check().catch(() => false)) return;
    if (Date.now() > deadline) throw new Error(`redis cluster: ${what} not reached in time`);
    await sleep(100);
  }
}

async function run(command: string, args: string[], input: string, deadline: number): Promise<string> {
  const child = spawn(command, args, { stdio: ['pipe', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stdin.end(input);
  const timer = setTimeout(() => child.kill('SIGKILL'), Math.max(0, deadline - Date.now()));
  const [code] = (await once(child, 'exit')) as [number | null];
  clearTimeout(timer);
  if (code !== 0) throw new Error(`${command} ${args.join(' ')} exited with ${code}:\n${output.slice(-2000)}`);
  return output;
}

/** `join: false` leaves the nodes alone: cluster-enabled, but no slots assigned, no cluster formed. */
export async function startRedisCluster(
  masters = 3,
  { join = true, timeoutMs = 20_000 }: { join?: boolean; timeoutMs?: number } = {},
): Promise<LocalCluster> {
  const deadline = Date.now() + timeoutMs;
  const dirs: string[] = [];
  const nodes: { child: ChildProcess; exited: Promise<unknown> }[] = [];
  const taken = new Set<number>();
  const ports: number[] = [];
  const stop = async () => {
    for (const { child, exited } of nodes) {
      child.kill('SIGKILL');
      await exited;
      children.delete(child);
    }
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  };
  try {
    for (let i = 0; i < masters; i += 1) {
      const port = await freeNodePort(taken);
      const dir = tempDir('cashier-test-redis-cluster-');
      dirs.push(dir);
      const child = spawn(
        'redis-server',
        [
          '--port',
          String(port),
          '--bind',
          '127.0.0.1',
          '--dir',
          dir,
          '--cluster-enabled',
          'yes',
          '--cluster-config-file',
          'nodes.conf',
          '--save',
          '',
          '--appendonly',
          'no',
          '--daemonize',
          'no',
        ],
        { cwd: dir, stdio: 'ignore' },
      );
      children.add(child);
      nodes.push({ child, exited: once(child, 'exit') });
      ports.push(port);
    }
    const eachNode = async <T>(fn: (node: Redis, port: number) => Promise<T>): Promise<T[]> =>
      Promise.all(
        ports.map(async (port) => {
          const node = new Redis(port, '127.0.0.1', { lazyConnect: true, maxRetriesPerRequest: 1 });
          node.on('error', () => undefined);
          try {
            await node.connect();
            return await fn(node, port);
          } finally {
            node.disconnect();
          }
        }),
      );
    await waitUntil('every node answering', deadline, async () =>
      (await eachNode((node) => node.ping())).every((pong) => pong === 'PONG'),
    );
    const cluster = { url: ports.map((port) => `redis://127.0.0.1:${port}`).join(','), ports, eachNode, stop };
    if (!join) return cluster;
    await run(
      'redis-cli',
      ['--cluster', 'create', ...ports.map((port) => `127.0.0.1:${port}`), '--cluster-replicas', '0'],
      'yes\n',
      deadline,
    );
    await waitUntil('cluster_state:ok on every node', deadline, async () =>
      (await eachNode(async (node) => String(await node.cluster('INFO')))).every((info) =>
        info.includes('cluster_state:ok'),
      ),
    );
    return cluster;
  } catch (error) {
    await stop();
    throw error;
  }
}

/** Every key of one node (SCAN, which on a cluster node sees only that node's keys). */
export async function keysOf(node: Redis, pattern = '*'): Promise<string[]> {
  const keys: string[] = [];
  let cursor = '0';
  do {
    const [next, batch] = await node.scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
    keys.push(...batch);
    cursor = next;
  } while (cursor !== '0');
  return keys;
}
