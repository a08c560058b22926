// The steps of a payment as data: every step leaves only open statuses, `send` leaves only the
// status a payment is created in, the endings leave every open status and end it, and only
// deposits expire or are cancelled.
import { describe, expect, it } from 'vitest';
import { LIFECYCLES, isOpen } from './payment-lifecycle.js';
import type { PaymentTable } from './payments.types.js';

const tables: PaymentTable[] = ['deposits', 'withdrawals'];

describe.each(tables)('the life of %s', (table) => {
  const lifecycle = LIFECYCLES[table];
  const steps = Object.entries(lifecycle.steps) as [string, { from: readonly string[]; to: string }][];

  it('is created open, and every step leaves an open status', () => {
    expect(isOpen(table, lifecycle.opened)).toBe(true);
    for (const [, step] of steps) expect(step.from.every((status) => isOpen(table, status))).toBe(true);
  });

  it('sends only what was just created, to a status still open', () => {
    const send = lifecycle.steps.send;
    expect(send.from).toEqual([lifecycle.opened]);
    expect(isOpen(table, send.to)).toBe(true);
  });

  it('ends from any open status, in a final one', () => {
    for (const [name, step] of steps.filter(([name]) => name !== 'send')) {
      expect(step.from, name).toEqual(lifecycle.open);
      expect(isOpen(table, step.to), name).toBe(false);
    }
  });
});

it('lets only deposits expire or be cancelled', () => {
  expect(Object.keys(LIFECYCLES.deposits.steps).sort()).toEqual(['cancel', 'complete', 'expire', 'fail', 'send']);
  expect(Object.keys(LIFECYCLES.withdrawals.steps).sort()).toEqual(['complete', 'fail', 'send']);
});
