// The baseline of the plain-WebSocket bench: the bare `ws` server child (bare-ws-server.mjs), and
// its publisher in the bench process: a Redis PUBLISH of the finished frame to the room's channel,
// so events cross the same process boundary and Redis hop as the service's bus.
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import { startNodeProcess } from './children.mjs';

const SERVER = fileURLToPath(new URL('./bare-ws-server.mjs', import.meta.url));
const START_TIMEOUT_MS = 30_000;

export async function startBareWsServer(run, { log }) {
  const proc = startNodeProcess('bare ws', [SERVER], {
    cwd: run.root,
    env: { ...process.env, REDIS_URL: run.redisUrl, PREFIX: run.redisPrefix },
    onLine: (line) => log(`[bare ws] ${line}`),
  });
  const port = await proc.waitForMessage((m) => m?.port, START_TIMEOUT_MS, 'starting');
  return { proc, url: `ws://127.0.0.1:${port}` };
}

/** Publishes frames (strings, sent as they are) to rooms of the bare `ws` server, through Redis. */
export function createBareWsEmitter(run) {
  const pub = new Redis(run.redisUrl);
  const prefix = `${run.redisPrefix}:bare-ws:`;
  return {
    publish: (room, frame) => pub.publish(`${prefix}${room}`, frame),
    close: () => pub.quit(),
  };
}
