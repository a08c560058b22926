// The life of a payment, for deposits and withdrawals alike: the steps it may take, as data, and
// the one way to take one. A deposit is created `pending`, a withdrawal `processing`; the worker
// sends it to its partner (`send`: sent_to_partner); it ends `complete`d, `fail`ed, `expire`d or
// `cancel`led (the last two for deposits). Every step locks the row, checks the step may leave its
// status, does what the step does besides (a posting, a hold given back) and moves the row in the
// same transaction, so a repeated, late or racing step finds the payment moved on and does nothing.
import type { EntityManager } from 'typeorm';
import { lockPayment, movePayment } from './payment-store.js';
import type { DepositStatus, PaymentKey, PaymentTable, RowOf, WithdrawalStatus } from './payments.types.js';

export type StepName = 'send' | 'complete' | 'fail' | 'expire' | 'cancel';

interface Step<S extends string> {
  from: readonly S[];
  to: S;
}

interface Lifecycle<S extends string, N extends StepName> {
  /** The status a payment is created in. */
  opened: S;
  /** The statuses it can still leave; the others are final. */
  open: readonly S[];
  steps: Record<N, Step<S>>;
}

const OPEN_DEPOSIT = ['pending', 'sent_to_partner'] as const;
const OPEN_WITHDRAWAL = ['processing', 'sent_to_partner'] as const;

export const LIFECYCLES = {
  deposits: {
    opened: 'pending',
    open: OPEN_DEPOSIT,
    steps: {
      send: { from: ['pending'], to: 'sent_to_partner' },
      complete: { from: OPEN_DEPOSIT, to: 'completed' },
      fail: { from: OPEN_DEPOSIT, to: 'failed' },
      expire: { from: OPEN_DEPOSIT, to: 'expired' },
      cancel: { from: OPEN_DEPOSIT, to: 'cancelled' },
    },
  } satisfies Lifecycle<DepositStatus, StepName>,
  withdrawals: {
    opened: 'processing',
    open: OPEN_WITHDRAWAL,
    steps: {
      send: { from: ['processing'], to: 'sent_to_partner' },
      complete: { from: OPEN_WITHDRAWAL, to: 'completed' },
      fail: { from: OPEN_WITHDRAWAL, to: 'failed' },
    },
  } satisfies Lifecycle<WithdrawalStatus, 'send' | 'complete' | 'fail'>,
};

/** The steps a payment of `table` can take. */
export type StepOf<T extends PaymentTable> = keyof (typeof LIFECYCLES)[T]['steps'] & StepName;

export const isOpen = (table: PaymentTable, status: string): boolean =>
  (LIFECYCLES[table].open as readonly string[]).includes(status);

export interface StepOptions<R, E> {
  /** Runs first, on the locked row: throws to refuse the caller (not its payment, not its amount). */
  check?: (row: R) => void;
  /** Besides its status, whether the step applies now (a deposit expires only past expires_at). */
  when?: (row: R) => boolean;
  /** What the step does before the row moves, still locked: a posting (its journal is recorded), a hold given back. */
  effect?: (row: R) => Promise<E>;
  /** The partner's reference for the payment (kept as it was when not given). */
  partnerReference?: string | null;
  /** What went wrong, for a failure. */
  error?: string;
}

/** What a step did: moved the payment (`row` as it is now), or nothing (`row` as it was, if it exists). */
export type Transition<R, E> = { moved: true; row: R; effect: E } | { moved: false; row: R | undefined };

/** Takes `step` for the payment `key` of `table` in `tx`, as the top of this file says. */
export async function transition<T extends PaymentTable, E extends { journalId?: string } | void = void>(
  tx: EntityManager,
  table: T,
  key: PaymentKey,
  step: StepOf<T>,
  options: StepOptions<RowOf<T>, E> = {},
): Promise<Transition<RowOf<T>, E>> {
  const row = await lockPayment(tx, table, key);
  if (!row) return { moved: false, row };
  options.check?.(row);
  const { from, to } = (LIFECYCLES[table].steps as Record<StepName, Step<string>>)[step];
  if (!from.includes(row.status) || (options.when && !options.when(row))) return { moved: false, row };
  const effect = (await options.effect?.(row)) as E;
  const moved = await movePayment(tx, table, row.id, from, {
    status: to,
    final: !isOpen(table, to),
    journalId: effect ? effect.journalId : undefined,
    partnerReference: options.partnerReference,
    error: options.error,
  });
  // The row is locked since it was read: nothing else can have moved it.
  if (!moved) throw new Error(`${table} ${row.request_ref} could not take step ${step} from ${row.status}`);
  return { moved: true, row: moved, effect };
}
