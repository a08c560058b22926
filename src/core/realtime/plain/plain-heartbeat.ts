// The WebSocket-level heartbeat of the plain connections (contract section 7): one timer for the
// process pings every open connection (as ws's README does it) rather than a timer each, so an
// idle connection holds no Timeout of its own; a client silent for longer than IDLE_MS is cut.
import { performance } from 'node:perf_hooks';

/** WebSocket-level ping interval, and how long a client may stay silent. */
export const PING_MS = 25_000;
export const IDLE_MS = 60_000;

/** Whole seconds since the process started: an integer field, where a Date.now() would be a boxed double. */
export const secondsNow = (): number => Math.floor(performance.now() / 1000);

export interface Beating {
  /** Pings the client, or cuts it when it was last heard longer than IDLE_MS before `now` (secondsNow()). */
  beat(now: number): void;
}

const live = new Set<Beating>();
let heartbeat: NodeJS.Timeout | undefined;

export function track(connection: Beating): void {
  live.add(connection);
  if (heartbeat) return;
  heartbeat = setInterval(() => {
    const now = secondsNow();
    for (const each of live) each.beat(now);
  }, PING_MS);
  heartbeat.unref();
}

export function untrack(connection: Beating): void {
  live.delete(connection);
  if (live.size > 0 || !heartbeat) return;
  clearInterval(heartbeat);
  heartbeat = undefined;
}
