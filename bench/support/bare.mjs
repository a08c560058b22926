// The baseline: the bare socket.io server child (bare-server.mjs), and its publisher in the bench
// process: a socket.io Server that never listens, with the same Redis adapter, whose room
// broadcasts cross Redis to the child like the service's bus does.
import { fileURLToPath } from 'node:url';
import { createAdapter } from '@socket.io/redis-adapter';
import { Redis } from 'ioredis';
import { Server } from 'socket.io';
import { startNodeProcess } from './children.mjs';

const SERVER = fileURLToPath(new URL('./bare-server.mjs', import.meta.url));
const START_TIMEOUT_MS = 30_000;

export async function startBareServer(run, { log }) {
  const proc = startNodeProcess('bare socket.io', [SERVER], {
    cwd: run.root,
    env: { ...process.env, REDIS_URL: run.redisUrl, ADAPTER_KEY: bareAdapterKey(run) },
    onLine: (line) => log(`[bare] ${line}`),
  });
  const port = await proc.waitForMessage((m) => m?.port, START_TIMEOUT_MS, 'starting');
  return { proc, url: `http://127.0.0.1:${port}` };
}

/** Emits `stream` frames to rooms of the child's /user (or /public) namespace, through Redis only. */
export function createBareEmitter(run) {
  const pub = new Redis(run.redisUrl);
  const sub = pub.duplicate();
  const io = new Server();
  io.adapter(createAdapter(pub, sub, { key: bareAdapterKey(run) }));
  const namespaces = { '/user': io.of('/user'), '/public': io.of('/public') };
  return {
    publish: (room, frame, namespace = '/user') => void namespaces[namespace].to(room).emit('stream', frame),
    close: () => Promise.all([pub.quit(), sub.quit()]),
  };
}

const bareAdapterKey = (run) => `${run.redisPrefix}:bare-socket.io`;
