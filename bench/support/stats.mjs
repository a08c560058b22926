// Percentiles by nearest rank over every sample (no histogram buckets, no interpolation).

/** count, mean, p50, p90, p99, max of `samples` (milliseconds or anything else). */
export function summarize(samples) {
  if (samples.length === 0) throw new Error('no samples to summarize');
  const sorted = Float64Array.from(samples).sort();
  const rank = (q) => sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)];
  const mean = sorted.reduce((sum, x) => sum + x, 0) / sorted.length;
  return { count: sorted.length, mean, p50: rank(0.5), p90: rank(0.9), p99: rank(0.99), max: sorted.at(-1) };
}

/** Milliseconds since `start` (a process.hrtime.bigint()). */
export const msSince = (start) => Number(process.hrtime.bigint() - start) / 1e6;
