// The comparison table (markdown) and the results files.
import { copyFile, mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

/** A row judged against a target: cashier must stay within `maxRatio` × bare. */
export function targetRow(measurement, unit, cashier, bare, maxRatio) {
  const ratio = cashier / bare;
  return {
    measurement,
    unit,
    cashier,
    bare,
    ratio,
    target: `≤ ${maxRatio}× bare`,
    result: ratio <= maxRatio ? 'pass' : 'FAIL',
  };
}

/** A row shown for context only (no target). */
export function contextRow(measurement, unit, cashier, bare) {
  return { measurement, unit, cashier, bare, ratio: cashier / bare, target: 'context', result: '' };
}

const number = (value, unit) =>
  unit === 'ms' ? value.toFixed(value < 10 ? 3 : 1) : Math.round(value).toLocaleString('en-US');

export function markdownTable(rows) {
  const lines = [
    '| measurement | cashier | bare | ratio | target | result |',
    '| --- | ---: | ---: | ---: | --- | --- |',
  ];
  for (const r of rows) {
    const cells = [
      `${r.measurement} (${r.unit})`,
      number(r.cashier, r.unit),
      number(r.bare, r.unit),
      `${r.ratio.toFixed(2)}×`,
      r.target,
      r.result,
    ];
    lines.push(`| ${cells.join(' | ')} |`);
  }
  return lines.join('\n');
}

/** Writes results to realtime-<timestamp>.json and realtime-latest.json in `dir`; returns the first path. */
export async function writeResults(dir, results) {
  await mkdir(dir, { recursive: true });
  const stamp = results.run.started_at.replace(/[:.]/g, '-');
  const path = join(dir, `realtime-${stamp}.json`);
  await writeFile(path, `${JSON.stringify(results, null, 2)}\n`);
  await copyFile(path, join(dir, 'realtime-latest.json'));
  return path;
}
