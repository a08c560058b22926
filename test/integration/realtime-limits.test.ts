// Message rate limits in Redis: the messages of one event-loop turn are counted in one pipeline,
// and every one of them still gets its own exact verdict.
import type { INestApplicationContext } from '@nestjs/common';
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { RealtimeLimits, type MessageVerdict } from '../../src/core/realtime/realtime-limits.service.js';
import { RedisService } from '../../src/core/redis/redis.service.js';
import { createTestContext } from '../helpers/nest.js';

let app: INestApplicationContext;
let limits: RealtimeLimits;

beforeAll(async () => {
  app = await createTestContext();
  limits = app.get(RealtimeLimits);
});

afterAll(async () => {
  await app?.close();
});

/** Resolves just after the next second boundary, so a burst falls in one per-second window. */
async function nextSecond(): Promise<void> {
  await new Promise((resolve) => setTimeout(resolve, 1000 - (Date.now() % 1000) + 20));
}

const allowed = (verdicts: MessageVerdict[]) => verdicts.filter((v) => v.allowed).length;
const refusedBy = (verdicts: MessageVerdict[]) => verdicts.flatMap((v) => (v.allowed ? [] : [v.window]));

describe('message rate limits', () => {
  it('counts a burst in one round trip and lets exactly the plan’s messages per second through', async () => {
    const [alice, bob] = [`limits-${randomBytes(4).toString('hex')}`, `limits-${randomBytes(4).toString('hex')}`];
    const pipelines = vi.spyOn(app.get(RedisService).client, 'pipeline');
    // The whole test in one per-minute window: not within its last seconds.
    const intoMinute = Date.now() % 60_000;
    if (intoMinute > 54_000) await new Promise((resolve) => setTimeout(resolve, 60_000 - intoMinute));
    await nextSecond();
    // The standard plan: 50 messages per second, 100 requests per minute (config/).
    const burst = await Promise.all([
      ...Array.from({ length: 80 }, () => limits.checkMessage(alice, 'standard')),
      ...Array.from({ length: 10 }, () => limits.checkMessage(bob, 'standard')),
    ]);
    expect(pipelines).toHaveBeenCalledTimes(1);
    pipelines.mockRestore();
    expect(allowed(burst.slice(0, 80))).toBe(50);
    expect(burst.slice(0, 50).every((v) => v.allowed)).toBe(true);
    expect(refusedBy(burst)).toEqual(Array.from({ length: 30 }, () => 'second'));
    expect(burst.every((v) => v.allowed || (v.retryAfter >= 1 && v.retryAfter <= 2))).toBe(true);
    expect(allowed(burst.slice(80))).toBe(10);

    // The next second: every message so far counted towards the minute (100), refused ones too.
    await nextSecond();
    const next = await Promise.all(Array.from({ length: 60 }, () => limits.checkMessage(alice, 'standard')));
    expect(allowed(next)).toBe(20);
    expect(refusedBy(next)).toEqual(Array.from({ length: 40 }, () => 'minute'));
    await nextSecond();
    const late = await Promise.all(Array.from({ length: 5 }, () => limits.checkMessage(alice, 'standard')));
    expect(allowed(late)).toBe(0);
    expect(late.every((v) => !v.allowed && v.window === 'minute' && v.retryAfter >= 1)).toBe(true);
  });
});
