// Fault: events published while sockets join their channels (issue 15, defect 1), across two API
// instances. Each round connects a socket (joining the user channel at connect) or joins a channel
// by `channel`, while an event of that channel is committed a few milliseconds earlier or later.
// An event after the seq the join reported must arrive at once, never wait for a later event.
// (test/integration/channel-join.test.ts makes the race certain; this one runs the real thing.)
import type { INestApplicationContext } from '@nestjs/common';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RealtimePublisher } from '../../src/core/realtime/realtime.publisher.js';
import { isolatedRedisPrefix, spawnApp, testEnv, type AppProcess } from '../helpers/app-process.js';
import { configDirWith, withLimits } from '../helpers/config-dir.js';
import { signUpAndLogIn, type SignedIn } from '../helpers/factories.js';
import { client } from '../helpers/http.js';
import { createTestContext, testConfig } from '../helpers/nest.js';
import { connect, connectUser, type TestSocket } from '../helpers/sockets.js';

const PREFIX = isolatedRedisPrefix();
const ROUNDS = 40;
const JOINS_PER_ROUND = 12;
let a: AppProcess;
let b: AppProcess;
let publisher: INestApplicationContext;
let user: SignedIn;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

beforeAll(async () => {
  const env = testEnv({
    REDIS_PREFIX: PREFIX,
    ROLE: 'api',
    CONFIG_DIR: configDirWith({ 'plans.json': withLimits(1_000_000, 100_000, 100) }),
  });
  [a, b] = await Promise.all([spawnApp({ env }), spawnApp({ env })]);
  publisher = await createTestContext([], testConfig({ REDIS_PREFIX: PREFIX }));
  user = await signUpAndLogIn(client(a.url));
});

afterAll(async () => {
  await publisher?.close();
  await Promise.all([a?.stop(), b?.stop()]);
});

/** Publishes one event on `channel` after `delayMs`; resolves to its seq. */
async function publishAfter(channel: string, delayMs: number, round: number): Promise<number> {
  await sleep(delayMs);
  await publisher.get(RealtimePublisher).publishNow(channel, 'race', { round });
  return round;
}

describe('events published while sockets join', () => {
  it('reach every socket whose join came before them at once, on connect and on channel', async () => {
    const heldBack: string[] = [];
    let delivered = 0;
    for (let round = 1; round <= ROUNDS; round += 1) {
      // Many joins at once (so they wait on each other and the window is wide), on both
      // instances, at connect and by `channel`; the round's event (seq = round) lands among them.
      const sockets: TestSocket[] = [];
      try {
        const publishing = publishAfter(user.channel, Math.random() * 30, round);
        const joins = await Promise.all(
          Array.from({ length: JOINS_PER_ROUND }, async (_, i) => {
            const url = i % 2 ? a.url : b.url;
            if (i % 3 !== 0) {
              const socket = await connectUser(url, { token: user.accessToken });
              sockets.push(socket);
              const connected = socket.received.find((r) => r.event === 'connected')!.args[0] as { seq: number };
              return { socket, joinedAt: connected.seq, how: 'connect' };
            }
            const socket = await connect(url);
            sockets.push(socket);
            const ack = (await socket.socket.emitWithAck('channel', { channel: user.channel })) as { seq: number };
            return { socket, joinedAt: ack.seq, how: 'channel' };
          }),
        );
        await publishing;
        await Promise.all(
          joins.map(async ({ socket, joinedAt, how }) => {
            if (joinedAt >= round) return;
            // The event came after this join: it must arrive now, alone.
            try {
              await socket.waitFor('stream', (f) => f.seq === round, 1500);
              delivered += 1;
            } catch {
              heldBack.push(`round ${round} (${how}, joined at ${joinedAt})`);
            }
          }),
        );
      } finally {
        for (const socket of sockets) socket.close();
      }
    }
    console.log(
      `join race: ${ROUNDS} rounds, ${delivered} joins saw the round's event after joining, held back: ${heldBack.length}`,
    );
    expect(heldBack).toEqual([]);
    expect(delivered).toBeGreaterThan(0);
  }, 150_000);
});
