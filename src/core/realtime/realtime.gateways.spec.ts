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
