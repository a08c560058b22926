import { describe, expect, it } from 'vitest';
import { parseChannelRequest } from './realtime.gateways.js';

describe('parseChannelRequest', () => {
  it.each([
    ['settings', { channel: 'settings' }],
    ['a'.repeat(32), { channel: 'a'.repeat(32) }],
    ['trade:BTC-EUR', { channel: 'trade:BTC-EUR' }],
  ])('reads the id %j', (body, expected) => {
    expect(parseChannelRequest(body)).toEqual(expected);
  });

  it('reads {channel, since}', () => {
    expect(parseChannelRequest({ channel: 'settings', since: 0 })).toEqual({ channel: 'settings', since: 0 });
    expect(parseChannelRequest({ channel: 'settings' })).toEqual({ channel: 'settings', since: undefined });
  });

  it.each([
    ['@user:1', 'unknown channel'],
    ['', 'unknown channel'],
    ['x'.repeat(101), 'unknown channel'],
    [42, 'channel must be a channel id or {channel, since}'],
    [null, 'channel must be a channel id or {channel, since}'],
    [['settings'], 'channel must be a channel id or {channel, since}'],
    [{ channel: 7 }, 'channel must be a string'],
    [{ channel: 'settings', since: -1 }, 'since must be a non-negative integer'],
    [{ channel: 'settings', since: 1.5 }, 'since must be a non-negative integer'],
    [{ channel: 'settings', since: '3' }, 'since must be a non-negative integer'],
    [{ channel: 'settings', extra: true }, 'property extra should not exist'],
  ])('refuses %j: %s', (body, message) => {
    expect(parseChannelRequest(body)).toBe(message);
  });
});

describe('UserChannelsGateway.join', () => {
  it('answers INTERNAL (and does not leave the client waiting) when joining fails inside', async () => {
    const { UserChannelsGateway } = await import('./realtime.gateways.js');
    const failing = { join: () => Promise.reject(new Error('database gone')) };
    const gateway = new UserChannelsGateway(
      {} as never,
      failing as never,
      { ownerOf: () => Promise.resolve({ ownerId: '1' }) } as never,
      { env: { CHANNEL_ID_AUTH: true } } as never,
    );
    const answers: unknown[] = [];
    await gateway.join({ emit: () => true } as never, 'settings', (response) => answers.push(response));
    expect(answers).toEqual([
      { ok: false, channel: 'settings', error: { code: 'INTERNAL', message: 'internal error' } },
    ]);
  });
});

describe('UserChannelsGateway.join on a plain endpoint scoped to its user', () => {
  it('refuses another user’s channel id even when ids are bearer secrets (CHANNEL_ID_AUTH)', async () => {
    const { UserChannelsGateway } = await import('./realtime.gateways.js');
    const { PLAIN_ENDPOINT } = await import('./realtime-handshake.js');
    const joined: string[] = [];
    const delivery = { join: (_socket: unknown, channel: string) => (joined.push(channel), { seq: 3, reset: false }) };
    const gateway = new UserChannelsGateway(
      {} as never,
      delivery as never,
      { ownerOf: (channel: string) => Promise.resolve({ ownerId: channel === 'mine' ? '7' : '8' }) } as never,
      { env: { CHANNEL_ID_AUTH: true } } as never,
    );
    const socket = {
      emit: () => true,
      [PLAIN_ENDPOINT]: { endpoint: '/x', streams: [], single: false, ownChannelsOnly: true },
      data: { principal: { kind: 'user', userId: '7' } },
    };
    const answers: unknown[] = [];
    await gateway.join(socket as never, 'theirs', (response) => answers.push(response));
    await gateway.join(socket as never, 'mine', (response) => answers.push(response));
    expect(answers).toEqual([
      { ok: false, channel: 'theirs', error: { code: 'SUBSCRIPTION_FAILED', message: 'not your channel' } },
      { ok: true, channel: 'mine', seq: 3 },
    ]);
    expect(joined).toEqual(['mine']);
  });
});
