// Limits that hold across instances, kept in Redis: requests per minute per user and messages per
// second per plan (fixed windows; the messages that arrive in one turn of the event loop are
// counted in one pipelined round trip), and live connections per user (a
// sorted set of socket ids whose scores are expiry times refreshed by each instance's heartbeat,
// so the sockets of a crashed instance stop counting on their own).
//
// The two windows of one subject share a hash tag (`rate:{subject}:...`): one script touches both,
// which on a Redis Cluster needs them in one slot.
import { Injectable } from '@nestjs/common';
import { AppConfig } from '../config/app-config.js';
import { RedisService } from '../redis/redis.service.js';

const MESSAGE_SCRIPT = `
local minute = redis.call('INCR', KEYS[1])
if minute == 1 then redis.call('PEXPIRE', KEYS[1], 61000) end
if minute > tonumber(ARGV[1]) then return {1, redis.call('PTTL', KEYS[1])} end
local second = redis.call('INCR', KEYS[2])
if second == 1 then redis.call('PEXPIRE', KEYS[2], 1100) end
if second > tonumber(ARGV[2]) then return {2, redis.call('PTTL', KEYS[2])} end
return {0, 0}`;

const ADMIT_SCRIPT = `
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[1])
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[4]) then return 0 end
redis.call('ZADD', KEYS[1], ARGV[2], ARGV[3])
redis.call('PEXPIRE', KEYS[1], ARGV[5])
return 1`;

// KEYS: presence, gone. ARGV: socket id, now (ms). Notes when the session's last socket left.
const LEAVE_SCRIPT = `
redis.call('ZREM', KEYS[1], ARGV[1])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[2])
if redis.call('ZCARD', KEYS[1]) == 0 then redis.call('SET', KEYS[2], ARGV[2], 'NX', 'PX', 86400000) end
return 0`;

// KEYS: presence, gone. ARGV: now (ms). -1 while a socket is present, else ms since the last left.
const ABSENCE_SCRIPT = `
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[1])
if redis.call('ZCARD', KEYS[1]) > 0 then redis.call('DEL', KEYS[2]) return -1 end
local since = redis.call('GET', KEYS[2])
if not since then redis.call('SET', KEYS[2], ARGV[1], 'PX', 86400000) return 0 end
return tonumber(ARGV[1]) - tonumber(since)`;

// KEYS: the user's generation. ARGV: now (ms). A number above every earlier one, even when Redis
// lost the key (it starts from the clock, not from 1).
const GENERATION_SCRIPT = `
local now = tonumber(ARGV[1])
local last = tonumber(redis.call('GET', KEYS[1]) or '0')
if last >= now then now = last + 1 end
redis.call('SET', KEYS[1], now, 'PX', 86400000)
return now`;

/** How long a registered connection counts without a heartbeat. */
export const CONNECTION_TTL_MS = 90_000;
export const HEARTBEAT_MS = 30_000;

export type MessageVerdict = { allowed: true } | { allowed: false; retryAfter: number; window: 'minute' | 'second' };

/** One message waiting to be counted: the script's keys and limits, and who waits for the answer. */
interface PendingCount {
  args: [string, string, number, number];
  resolve: (result: [number, number]) => void;
  reject: (error: unknown) => void;
}

type MessageCounter = { countMessage(...args: PendingCount['args']): unknown };

@Injectable()
export class RealtimeLimits {
  private pending: PendingCount[] = [];

  constructor(
    private readonly redis: RedisService,
    private readonly config: AppConfig,
  ) {
    // EVALSHA, loaded on first use (ioredis retries with the script when Redis lost it).
    redis.client.defineCommand('countMessage', { numberOfKeys: 2, lua: MESSAGE_SCRIPT });
  }

  planLimits(plan: string) {
    const limits =
      this.config.business.plans.get(plan) ?? this.config.business.plans.get(this.config.business.defaultPlan)!;
    return limits;
  }

  /** Counts one incoming message of `subject` (a user) against both windows. */
  async checkMessage(subject: string, plan: string): Promise<MessageVerdict> {
    const now = Date.now();
    const minute = Math.floor(now / 60_000);
    const second = Math.floor(now / 1000);
    const [blocked, ttl] = await this.count([
      this.rateKey(subject, 'min', minute),
      this.rateKey(subject, 'sec', second),
      this.config.business.requestsPerMinute,
      this.planLimits(plan).messagesPerSecond,
    ]);
    if (blocked === 0) return { allowed: true };
    return {
      allowed: false,
      retryAfter: Math.max(1, Math.ceil(ttl / 1000)),
      window: blocked === 1 ? 'minute' : 'second',
    };
  }

  /**
   * Counts one HTTP request of a user against the same per-minute budget as its socket messages
   * (one budget per user across transports); HTTP has no per-second plan window.
   */
  async checkRequest(userId: string, perMinute = this.config.business.requestsPerMinute): Promise<MessageVerdict> {
    const now = Date.now();
    const [blocked, ttl] = await this.count([
      this.rateKey(userId, 'min', Math.floor(now / 60_000)),
      this.rateKey(userId, 'http-sec', Math.floor(now / 1000)),
      perMinute,
      Number.MAX_SAFE_INTEGER,
    ]);
    return blocked === 0
      ? { allowed: true }
      : { allowed: false, retryAfter: Math.max(1, Math.ceil(ttl / 1000)), window: 'minute' };
  }

  /** Counts a message with the others of this turn of the event loop, in one pipeline. */
  private count(args: PendingCount['args']): Promise<[number, number]> {
    return new Promise((resolve, reject) => {
      this.pending.push({ args, resolve, reject });
      if (this.pending.length === 1) setImmediate(this.flush);
    });
  }

  private readonly flush = (): void => {
    const batch = this.pending;
    this.pending = [];
    if (this.redis.isCluster) {
      // A pipeline may not span a Cluster's nodes: each message on its own, which the client's
      // auto-pipelining sends as one pipeline per node.
      const counter = this.redis.client as unknown as MessageCounter;
      for (const { args, resolve, reject } of batch) {
        (counter.countMessage(...args) as Promise<[number, number]>).then(resolve, reject);
      }
      return;
    }
    const pipeline = this.redis.client.pipeline();
    for (const { args } of batch) (pipeline as unknown as MessageCounter).countMessage(...args);
    pipeline.exec().then(
      (results) =>
        batch.forEach(({ resolve, reject }, i) => {
          const [error, value] = results?.[i] ?? [new Error('redis pipeline returned no result'), null];
          if (error) reject(error);
          else resolve(value as [number, number]);
        }),
      (error: unknown) => batch.forEach(({ reject }) => reject(error)),
    );
  };

  /** Registers a connection unless the user already has as many as the plan allows. */
  async admitConnection(userId: string, socketId: string, plan: string): Promise<boolean> {
    const now = Date.now();
    const admitted = await this.redis.client.eval(
      ADMIT_SCRIPT,
      1,
      this.connectionsKey(userId),
      now,
      now + CONNECTION_TTL_MS,
      socketId,
      this.planLimits(plan).maxConnections,
      CONNECTION_TTL_MS,
    );
    return admitted === 1;
  }

  /** Whether the user may open one more connection under the plan (nothing is registered). */
  async hasRoomFor(userId: string, plan: string): Promise<boolean> {
    const live = await this.redis.client.zcount(this.connectionsKey(userId), Date.now(), '+inf');
    return live < this.planLimits(plan).maxConnections;
  }

  /** Registers a connection without a limit (SINGLE_SOCKET_PER_USER replaces instead). */
  async registerConnection(userId: string, socketId: string): Promise<void> {
    await this.redis.client.zadd(this.connectionsKey(userId), Date.now() + CONNECTION_TTL_MS, socketId);
  }

  /** The connection is gone: it no longer counts, for its user or its session. */
  async releaseConnection(userId: string, socketId: string, session?: string): Promise<void> {
    await Promise.all([
      this.redis.client.zrem(this.connectionsKey(userId), socketId),
      session === undefined
        ? undefined
        : this.redis.client.eval(LEAVE_SCRIPT, 2, ...this.presenceKeys(session), socketId, Date.now()),
    ]);
  }

  /** A connection of `session` is up (the dead man's switch of its orders waits while one is). */
  async sessionArrived(session: string, socketId: string): Promise<void> {
    const [present, gone] = this.presenceKeys(session);
    await Promise.all([
      this.redis.client.zadd(present, Date.now() + CONNECTION_TTL_MS, socketId),
      this.redis.client.pexpire(present, CONNECTION_TTL_MS),
      this.redis.client.del(gone),
    ]);
  }

  /**
   * How long `session` has had no connection, in ms, or null while it has one. A session whose
   * sockets vanished without a goodbye (their instance died) counts from when this is first asked
   * after their registrations lapsed.
   */
  async sessionAbsence(session: string): Promise<number | null> {
    const absent = Number(await this.redis.client.eval(ABSENCE_SCRIPT, 2, ...this.presenceKeys(session), Date.now()));
    return absent < 0 ? null : absent;
  }

  /** Keeps this instance's connections counted, per user and per session. */
  async heartbeat(connections: { userId: string; socketId: string; session?: string }[]): Promise<void> {
    if (connections.length === 0) return;
    const expiry = Date.now() + CONNECTION_TTL_MS;
    const keys = connections.flatMap((c) => [
      { key: this.connectionsKey(c.userId), member: c.socketId },
      ...(c.session === undefined ? [] : [{ key: this.presenceKeys(c.session)[0], member: c.socketId }]),
    ]);
    if (this.redis.isCluster) {
      // Different users' keys live on different nodes: auto-pipelined per node (see flush).
      await Promise.all(
        keys.flatMap(({ key, member }) => [
          this.redis.client.zadd(key, 'XX', expiry, member),
          this.redis.client.pexpire(key, CONNECTION_TTL_MS),
        ]),
      );
      return;
    }
    const pipeline = this.redis.client.pipeline();
    for (const { key, member } of keys) {
      pipeline.zadd(key, 'XX', expiry, member);
      pipeline.pexpire(key, CONNECTION_TTL_MS);
    }
    await pipeline.exec();
  }

  /**
   * A number that grows with every connection of a user (orders sockets across instances), or of
   * a user on one endpoint. Clock-based, so a Redis that came back empty cannot make a new
   * connection look older than the one it replaces.
   */
  async nextGeneration(userId: string, endpoint?: string): Promise<number> {
    const key = endpoint
      ? this.redis.key('conn-generation', userId, endpoint)
      : this.redis.key('conn-generation', userId);
    return Number(await this.redis.client.eval(GENERATION_SCRIPT, 1, key, Date.now()));
  }

  private rateKey(subject: string, window: 'min' | 'sec' | 'http-sec', period: number): string {
    return this.redis.key('rate', `{${subject}}`, window, period);
  }

  /** A session's live sockets, and when it last had none; one hash tag, for the scripts. */
  private presenceKeys(session: string): [present: string, gone: string] {
    return [this.redis.key('presence', `{${session}}`), this.redis.key('presence', `{${session}}`, 'gone')];
  }

  private connectionsKey(userId: string): string {
    return this.redis.key('connections', userId);
  }
}
