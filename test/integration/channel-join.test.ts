// Joining a durable channel while its events are being published (issue 15, defect 1): an event
// committed and put on the bus while the join is reading the channel's bounds must reach the
// joining socket at once, not wait for a later event to fill the gap. The race is made certain
// here: the store's bounds() publishes the next event of the channel (committed, and handed to
// this process's bus subscriber) after reading the bounds and before returning them.
import type { INestApplicationContext } from '@nestjs/common';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { createServer, type Server as HttpServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Server } from 'socket.io';
import { io as connectClient, type Socket as ClientSocket } from 'socket.io-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ChannelDelivery, type JoinResult } from '../../src/core/realtime/channel-delivery.service.js';
import { OutboxStore } from '../../src/core/realtime/outbox.store.js';
import { RealtimeBus } from '../../src/core/realtime/realtime-bus.js';
import { RealtimeDirectory } from '../../src/core/realtime/realtime-directory.js';
import { RealtimeMetrics } from '../../src/core/realtime/realtime.metrics.js';
import { RealtimePublisher } from '../../src/core/realtime/realtime.publisher.js';
import { SendBudget } from '../../src/core/realtime/send-budget.js';
import { createTestContext, testConfig } from '../helpers/nest.js';

let app: INestApplicationContext;
let publisher: RealtimePublisher;
let http: HttpServer;
let ioServer: Server;
let url: string;
/** Runs inside bounds(), after the bounds were read; set per test. */
let duringBounds: ((channel: string) => Promise<void>) | undefined;
const clients: ClientSocket[] = [];

beforeAll(async () => {
  app = await createTestContext();
  publisher = app.get(RealtimePublisher);
  const store = app.get(OutboxStore);
  const racing = Object.create(store) as OutboxStore;
  racing.bounds = async (channel: string) => {
    const bounds = await store.bounds(channel);
    await duringBounds?.(channel);
    return bounds;
  };
  const delivery = new ChannelDelivery(
    racing,
    app.get(RealtimeBus),
    app.get(RealtimeMetrics),
    new SendBudget(testConfig()),
    app.get(RealtimeDirectory),
  );
  await delivery.onApplicationBootstrap();

  http = createServer();
  ioServer = new Server(http, { path: '/ws/socket.io', transports: ['websocket'] });
  const nsp = ioServer.of('/user');
  delivery.attach({ user: nsp });
  nsp.on('connection', (socket) => {
    socket.on('join', (request: { channel: string; since?: number }, ack: (result: JoinResult) => void) => {
      void delivery.join(socket, request.channel, request.since).then(ack);
    });
  });
  http.listen(0, '127.0.0.1');
  await once(http, 'listening');
  url = `http://127.0.0.1:${(http.address() as AddressInfo).port}/user`;
});

afterAll(async () => {
  for (const client of clients) client.close();
  await ioServer?.close();
  await app?.close();
});

async function joinedClient(): Promise<{ socket: ClientSocket; frames: { seq: number; event: string }[] }> {
  const socket = connectClient(url, { path: '/ws/socket.io', transports: ['websocket'], forceNew: true });
  clients.push(socket);
  const frames: { seq: number; event: string }[] = [];
  socket.on('stream', (frame: { seq: number; event: string }) => frames.push(frame));
  await new Promise((resolve) => socket.once('connect', () => resolve(undefined)));
  return { socket, frames };
}

const channelName = () => `join-race-${randomBytes(6).toString('hex')}`;

describe('joining a channel while it is published to', () => {
  it('delivers an event committed during the join at once', async () => {
    const channel = channelName();
    await publisher.publishNow(channel, 'before', { n: 1 });
    let published = false;
    duringBounds = async (joining) => {
      if (joining !== channel || published) return;
      published = true;
      await publisher.publishNow(channel, 'during', { n: 2 });
    };
    const { socket, frames } = await joinedClient();
    const result = (await socket.emitWithAck('join', { channel })) as JoinResult;
    duringBounds = undefined;
    expect(published).toBe(true);
    expect(result.seq).toBe(1); // read before the second event was committed
    await expect.poll(() => frames.map((f) => f.seq), { timeout: 2000 }).toEqual([2]);
    expect(frames[0].event).toBe('during');
  });

  it('replays with since, then delivers the event committed during the join once, in order', async () => {
    const channel = channelName();
    for (let n = 1; n <= 3; n += 1) await publisher.publishNow(channel, 'before', { n });
    duringBounds = async (joining) => {
      if (joining !== channel) return;
      duringBounds = undefined;
      await publisher.publishNow(channel, 'during', { n: 4 });
    };
    const { socket, frames } = await joinedClient();
    const result = (await socket.emitWithAck('join', { channel, since: 1 })) as JoinResult;
    expect(result).toEqual({ seq: 3, reset: false });
    await expect.poll(() => frames.map((f) => f.seq), { timeout: 2000 }).toEqual([2, 3, 4]);
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(frames.map((f) => f.seq)).toEqual([2, 3, 4]);
  });
});
