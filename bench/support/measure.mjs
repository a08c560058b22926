// Measurement steps the benches share: the open-file check, latency paths taken in alternating
// blocks, and the heap that idle sockets cost a server.
import { existsSync, readFileSync } from 'node:fs';
import { sleep } from './wait.mjs';

/** Linux only (/proc); elsewhere a low limit shows up as failed connects instead. */
export function checkOpenFileLimit(needed, what) {
  if (!existsSync('/proc/self/limits')) return;
  const soft = /^Max open files\s+(\d+|unlimited)/m.exec(readFileSync('/proc/self/limits', 'utf8'))?.[1];
  if (soft && soft !== 'unlimited' && Number(soft) < needed) {
    throw new Error(`open file limit is ${soft}; ${what} need ${needed}: run \`ulimit -n 20000\` first`);
  }
}

/** Cashier and bare take turns in this many blocks of rounds. */
const LATENCY_BLOCKS = 10;

/**
 * Warms both paths up, then measures them in alternating blocks (ABBA...), so that load from
 * anything else on the machine, which changes over time, falls on both alike. A path has
 * `rounds(count, measured)` and `result()`.
 */
export async function compareLatency(cashier, bare, { rounds, warmup }) {
  await cashier.rounds(warmup, false);
  await bare.rounds(warmup, false);
  for (let block = 0; block < LATENCY_BLOCKS; block++) {
    const order = block % 2 === 0 ? [cashier, bare] : [bare, cashier];
    for (const path of order) await path.rounds(rounds / LATENCY_BLOCKS, true);
  }
  return { cashier: cashier.result(), bare: bare.result() };
}

/** Quiet time before reading a heap, so just-opened sockets have settled. */
const SETTLE_MS = 1000;
/** After closing thousands of sockets: the server has their disconnects to process first. */
const CLOSE_SETTLE_MS = 3000;

/**
 * Heap growth of `server` while the sockets `open()` connects stay idle, and what is still
 * retained once `close(sockets)` closed them again (a leak shows there).
 */
export async function idleHeap(server, close, open) {
  await sleep(SETTLE_MS);
  const before = await server.heap();
  const { sockets, seconds } = await open();
  let after;
  try {
    await sleep(SETTLE_MS);
    after = await server.heap();
  } finally {
    close(sockets);
  }
  await sleep(CLOSE_SETTLE_MS);
  const closed = await server.heap();
  const n = sockets.length;
  return {
    sockets: n,
    before,
    after,
    closed,
    heapPerSocket: (after.heapUsed - before.heapUsed) / n,
    retainedPerClosedSocket: (closed.heapUsed - before.heapUsed) / n,
    connectSeconds: seconds,
    connectsPerSecond: n / seconds,
  };
}
