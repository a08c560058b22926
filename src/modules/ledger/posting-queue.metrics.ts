// What the posting queue tells /metrics: its batches' sizes and paths, and how long postings
// wait for their transaction (bench/ledger reads all three).
import { Counter, Histogram } from 'prom-client';
import { metricOnce } from '../../core/metrics/metric-once.js';

export const batchSize = metricOnce(
  'ledger_posting_batch_size',
  () =>
    new Histogram({
      name: 'ledger_posting_batch_size',
      help: 'Postings per transaction of the posting queue (committed or not)',
      buckets: [1, 2, 4, 8, 16, 32, 64],
    }),
);

/**
 * How long a posting waited before the transaction it runs in started: at low load ~0, at high
 * load the time it takes the batches ahead of it to commit. bench/ledger's breakdown reads it to
 * tell queueing from the transaction itself. A posting run again (its batch failed) counts again,
 * from its first submit.
 */
export const queueWait = metricOnce(
  'ledger_posting_queue_wait_seconds',
  () =>
    new Histogram({
      name: 'ledger_posting_queue_wait_seconds',
      help: 'Seconds from submit() to the start of the transaction the posting runs in',
      buckets: [0.0001, 0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1],
    }),
);

/**
 * Batches by how they ran: `expected` in one round trip on the states the queue knew, `read` the
 * ordinary way, `expected_missed` sent on known states that the database found out of date, or
 * with a key used before (each then sent again or run the ordinary way, and counted there too).
 */
export const batchPaths = metricOnce(
  'ledger_posting_batches_total',
  () =>
    new Counter({
      name: 'ledger_posting_batches_total',
      help: 'Transactions of the posting queue by path: expected (one round trip), read, expected_missed',
      labelNames: ['path'],
    }),
);
