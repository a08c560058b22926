// The comparison table (markdown) and the results files.
import { copyFile, mkdir, writeFile } from 'node:fs/promises';
import { cpus } from 'node:os';
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

/** A row judged by the caller: `pass` says whether `target` (its wording) is met. */
export function judgedRow(measurement, unit, cashier, bare, target, pass) {
  return { measurement, unit, cashier, bare, ratio: cashier / bare, target, result: pass ? 'pass' : 'FAIL' };
}

/** A row shown for context only (no target). */
export function contextRow(measurement, unit, cashier, bare) {
  return { measurement, unit, cashier, bare, ratio: cashier / bare, target: 'context', result: '' };
}

const number = (value, unit) => {
  if (value === undefined || value === null) return '–';
  if (unit === 'ms') return value.toFixed(value < 10 ? 3 : 1);
  if (unit === 'transfers per transaction') return value.toFixed(1);
  return Math.round(value).toLocaleString('en-US');
};

const times = (a, b) =>
  a === undefined || b === undefined || a === null || b === null ? '–' : `${(a / b).toFixed(2)}×`;

/**
 * The rows as a markdown table; `baseline` names the comparison column. `extra` adds a second
 * baseline ({name, key}: rows carry its value as `row[key]`, undefined where it has none), with
 * its own ratio column; `ratio` stays cashier ÷ the first baseline.
 */
export function markdownTable(rows, { baseline = 'bare', extra } = {}) {
  const lines = extra
    ? [
        `| measurement | cashier | ${baseline} | ${extra.name} | ÷ ${baseline} | ÷ ${extra.name} | target | result |`,
        '| --- | ---: | ---: | ---: | ---: | ---: | --- | --- |',
      ]
    : [`| measurement | cashier | ${baseline} | ratio | target | result |`, '| --- | ---: | ---: | ---: | --- | --- |'];
  for (const r of rows) {
    const cells = extra
      ? [
          `${r.measurement} (${r.unit})`,
          number(r.cashier, r.unit),
          number(r.bare, r.unit),
          number(r[extra.key], r.unit),
          times(r.cashier, r.bare),
          times(r.cashier, r[extra.key]),
          r.target,
          r.result,
        ]
      : [
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

/** Writes results to <name>-<timestamp>.json and <name>-latest.json in `dir`; returns the first path. */
export async function writeResults(dir, name, results) {
  await mkdir(dir, { recursive: true });
  const stamp = results.run.started_at.replace(/[:.]/g, '-');
  const path = join(dir, `${name}-${stamp}.json`);
  await writeFile(path, `${JSON.stringify(results, null, 2)}\n`);
  await copyFile(path, join(dir, `${name}-latest.json`));
  return path;
}

/** The line under a table: the machine, and how busy it was while measuring (a busy one widens tails on both sides). */
export const loadLine = (load) =>
  `${cpus().length} CPUs, 1-minute load average ${load.start.toFixed(2)} at the start of the measurements, ` +
  `${load.end.toFixed(2)} at the end`;
