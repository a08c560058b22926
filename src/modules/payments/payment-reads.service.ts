// Reading payments: a user's deposit status and history (with the user channel's seq read in
// the same snapshot, as_of_seq, so a client can line the list up with the stream), every user's
// payments for admins, and who owns a payment channel.
import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource, EntityManager } from 'typeorm';
import { AppConfig } from '../../core/config/app-config.js';
import { sql } from '../../core/database/sql.js';
import { Transactions } from '../../core/database/transactions.js';
import { currencyOf } from '../accounts/money-input.js';
import type { DepositRefDto, HistoryRequestDto } from './dto/payment-requests.dto.js';
import { ownerOfPayment, selectPayments } from './payment-store.js';
import { depositView, withdrawalView, type DepositView, type WithdrawalView } from './payment-views.js';
import { paymentErrors } from './payments.errors.js';
import type { DepositRow, WithdrawalRow } from './payments.types.js';

export interface History {
  deposits?: DepositView[];
  withdrawals?: WithdrawalView[];
  as_of_seq: number;
}

type Kind = 'deposits' | 'withdrawals' | 'all';

@Injectable()
export class PaymentReadsService {
  constructor(
    private readonly transactions: Transactions,
    @InjectDataSource() private readonly db: DataSource,
    private readonly config: AppConfig,
  ) {}

  /** get_deposit_status: the user's own deposit. */
  async depositStatus(userId: string, { request_ref }: DepositRefDto): Promise<DepositView> {
    const [deposit] = await selectPayments(this.db, 'deposits', 'd.request_ref = $1 AND d.user_id = $2', [
      request_ref,
      userId,
    ]);
    if (!deposit) throw paymentErrors.notFound();
    return this.deposit(deposit);
  }

  /** get_history: newest first, the lists and as_of_seq from one snapshot. */
  async history(userId: string, request: HistoryRequestDto): Promise<History> {
    const kind = request.type ?? 'all';
    const page = { limit: request.limit ?? 20, offset: request.offset ?? 0 };
    return this.transactions.run(
      async (tx) => {
        const { rows } = await sql<{ seq: string | null }>(
          tx,
          `SELECT (SELECT cs.seq FROM users u JOIN channel_seq cs ON cs.channel = u.channel WHERE u.id = $1) AS seq`,
          [userId],
        );
        const lists = await this.lists(tx, kind, (a) => `${a}.user_id = $1`, [userId], page);
        return {
          ...(lists.deposits && { deposits: lists.deposits.map((row) => this.deposit(row)) }),
          ...(lists.withdrawals && { withdrawals: lists.withdrawals.map((row) => this.withdrawal(row)) }),
          as_of_seq: Number(rows[0]?.seq ?? 0),
        };
      },
      { isolation: 'REPEATABLE READ' },
    );
  }

  /** For admins: every user's payments, newest 200, optionally of one status (failed ones stay visible). */
  async all(kind: Kind, status: string | undefined) {
    const lists = await this.lists(this.db, kind, (a) => `$1::text IS NULL OR ${a}.status = $1`, [status ?? null], {
      limit: 200,
      offset: 0,
    });
    const owned = <T>(view: T, row: { user_id: string }) => ({ ...view, user_id: String(row.user_id) });
    return {
      ...(lists.deposits && { deposits: lists.deposits.map((row) => owned(this.deposit(row), row)) }),
      ...(lists.withdrawals && { withdrawals: lists.withdrawals.map((row) => owned(this.withdrawal(row), row)) }),
    };
  }

  /** The owner of a payment channel id (a deposit's or a withdrawal's payment_id), for joining it. */
  ownerOfPayment(paymentId: string): Promise<string | null> {
    return ownerOfPayment(this.db, paymentId);
  }

  /** Newest first; `where` is given each table's alias (`d`, `w`). */
  private async lists(
    manager: EntityManager | DataSource,
    kind: Kind,
    where: (alias: string) => string,
    params: unknown[],
    page: { limit: number; offset: number },
  ): Promise<{ deposits?: DepositRow[]; withdrawals?: WithdrawalRow[] }> {
    const n = params.length;
    const rest = (a: string) => `ORDER BY ${a}.id DESC LIMIT $${n + 1} OFFSET $${n + 2}`;
    const paged = [...params, page.limit, page.offset];
    return {
      ...(kind !== 'withdrawals' && {
        deposits: await selectPayments(manager, 'deposits', where('d'), paged, rest('d')),
      }),
      ...(kind !== 'deposits' && {
        withdrawals: await selectPayments(manager, 'withdrawals', where('w'), paged, rest('w')),
      }),
    };
  }

  private deposit(row: DepositRow): DepositView {
    return depositView(row, currencyOf(this.config, row.currency).decimals);
  }

  private withdrawal(row: WithdrawalRow): WithdrawalView {
    return withdrawalView(row, currencyOf(this.config, row.currency).decimals);
  }
}
