// Fault: a client that stops reading while its channel is flooded (issue 15, defect 3). The server
// must close that connection at its unsent bound (WS_SEND_BUFFER_LIMIT) instead of holding the
// flood, keep its heap within a ceiling, keep the other sockets' latency, and the closed client
// must resume with since and get every event exactly once. The same flood with the client reading
// is the baseline.
import type { INestApplicationContext } from '@nestjs/common';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RealtimePublisher } from '../../src/core/realtime/realtime.publisher.js';
import { isolatedRedisPrefix, spawnApp, testEnv, type AppProcess } from '../helpers/app-process.js';
import { signUpAndLogIn, type SignedIn } from '../helpers/factories.js';
import { followUser, type Follower } from '../helpers/faults.js';
import { client, type Client } from '../helpers/http.js';
import { createTestContext, testConfig } from '../helpers/nest.js';

/** Events per flood and their payload size: 60 MB per flood. */
const FLOOD = 1500;
const PAYLOAD = 'x'.repeat(40 * 1024);
/** The documented ceiling: heap growth of the API during a flood on a stalled client. */
const HEAP_CEILING_MB = 32;

const PREFIX = isolatedRedisPrefix();
let app: AppProcess;
let api: Client;
let publisher: INestApplicationContext;
let victim: SignedIn;
const others: SignedIn[] = [];
const sockets: Follower[] = [];

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

interface PausableClient {
  io: { engine: { transport: { ws?: { _socket?: { pause(): void; resume(): void } } } } };
}

const tcpOf = (follower: Follower) => (follower.socket as unknown as PausableClient).io.engine.transport.ws!._socket!;

async function heapUsedMb(): Promise<number> {
  const metrics = await api.get('/metrics');
  const match = /^nodejs_heap_size_used_bytes (\d+(?:\.\d+)?(?:e\+\d+)?)$/m.exec(metrics.body as string);
  if (!match) throw new Error('no nodejs_heap_size_used_bytes in /metrics');
  return Number(match[1]) / 1024 / 1024;
}

const percentile = (values: number[], p: number) => {
  const sorted = [...values].sort((x, y) => x - y);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
};

interface FloodResult {
  p99: number;
  p50: number;
  samples: number;
  heapGrowthMb: number;
}

/**
 * Floods the victim's channel with FLOOD events (8 publishers at once) while the other users'
 * channels get a ping every 20 ms; returns the others' publish → receipt latencies and the API's
 * largest heap growth seen meanwhile.
 */
async function flood(otherSockets: Follower[]): Promise<FloodResult> {
  const pub = publisher.get(RealtimePublisher);
  const heapBefore = await heapUsedMb();
  let heapMax = heapBefore;
  const latencies: number[] = [];
  const listeners = otherSockets.map((socket) => {
    const listener = (frame: { event: string; payload: { sent: number } }) => {
      if (frame.event === 'ping') latencies.push(Date.now() - frame.payload.sent);
    };
    socket.socket.on('stream', listener);
    return () => socket.socket.off('stream', listener);
  });
  let flooding = true;
  const pings = (async () => {
    while (flooding) {
      const target = others[Math.floor(Math.random() * others.length)];
      await pub.publishNow(target.channel, 'ping', { sent: Date.now() });
      await sleep(20);
    }
  })();
  const sampling = (async () => {
    while (flooding) {
      heapMax = Math.max(heapMax, await heapUsedMb());
      await sleep(200);
    }
  })();
  let next = 0;
  await Promise.all(
    Array.from({ length: 8 }, async () => {
      while (next < FLOOD) {
        next += 1;
        await pub.publishNow(victim.channel, 'flood', { n: next, data: PAYLOAD });
      }
    }),
  );
  await sleep(1000);
  flooding = false;
  await Promise.all([pings, sampling]);
  for (const stop of listeners) stop();
  return {
    p99: percentile(latencies, 99),
    p50: percentile(latencies, 50),
    samples: latencies.length,
    heapGrowthMb: heapMax - heapBefore,
  };
}

beforeAll(async () => {
  app = await spawnApp({ env: testEnv({ REDIS_PREFIX: PREFIX, ROLE: 'api', WS_SEND_BUFFER_LIMIT: '1048576' }) });
  api = client(app.url);
  publisher = await createTestContext([], testConfig({ REDIS_PREFIX: PREFIX }));
  victim = await signUpAndLogIn(api);
  for (let i = 0; i < 8; i += 1) others.push(await signUpAndLogIn(api));
});

afterAll(async () => {
  for (const socket of sockets) socket.close();
  await publisher?.close();
  await app?.stop();
});

describe('a client that stops reading under a flood', () => {
  it('is closed at the bound, the heap stays under its ceiling, the others keep their latency, and it resumes exactly once', async () => {
    const otherSockets = await Promise.all(others.map((user) => followUser(app.url, user.accessToken, user.channel)));
    sockets.push(...otherSockets);
    const reader = await followUser(app.url, victim.accessToken, victim.channel);
    sockets.push(reader);

    // Baseline: the same flood, read.
    const baseline = await flood(otherSockets);
    await expect.poll(() => reader.seqs.length, { timeout: 30_000 }).toBe(FLOOD);
    reader.close();

    // The victim resumes from where the reader stopped and then stops reading.
    const stalled = await followUser(app.url, victim.accessToken, victim.channel, FLOOD);
    sockets.push(stalled);
    tcpOf(stalled).pause();
    const faulty = await flood(otherSockets);
    const closeLine = /\{[^\n]*closing a connection that does not keep up[^\n]*\}/.exec(app.output())?.[0];
    const unsent = closeLine ? (JSON.parse(closeLine) as { unsent_bytes: number }).unsent_bytes : undefined;
    console.log(
      `slow socket: baseline p50/p99 ${baseline.p50}/${baseline.p99} ms (${baseline.samples}), heap +${baseline.heapGrowthMb.toFixed(1)} MB; ` +
        `stalled p50/p99 ${faulty.p50}/${faulty.p99} ms (${faulty.samples}), heap +${faulty.heapGrowthMb.toFixed(1)} MB; closed at ${unsent} bytes unsent`,
    );
    expect(faulty.heapGrowthMb).toBeLessThan(HEAP_CEILING_MB);
    expect(unsent).toBeDefined();
    expect(unsent).toBeGreaterThan(1048576);
    expect(unsent).toBeLessThan(1048576 + 64 * 1024);
    expect(faulty.p99).toBeLessThanOrEqual(Math.max(2 * baseline.p99, baseline.p99 + 5));

    // Reading again: what was in flight, the close, then a reconnection with since and the rest.
    tcpOf(stalled).resume();
    await expect.poll(() => stalled.disconnects.length, { timeout: 10_000 }).toBeGreaterThan(0);
    await expect.poll(() => stalled.seqs.length, { timeout: 60_000, interval: 200 }).toBeGreaterThanOrEqual(FLOOD);
    await sleep(300);
    expect(stalled.seqs).toEqual(Array.from({ length: FLOOD }, (_, i) => FLOOD + i + 1));
    expect(app.child.exitCode).toBeNull();
  }, 170_000);
});
