// get_history: the user's deposits and withdrawals, newest first, with the user channel's seq
// read in the same snapshot (as_of_seq), so a client can line the list up with the stream.
import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource } from 'typeorm';
import { sql } from '../../core/database/sql.js';
import { DepositsService } from './deposits.service.js';
import type { HistoryRequestDto } from './dto/payment-requests.dto.js';
import type { DepositView, WithdrawalView } from './payments.types.js';
import { WithdrawalsService } from './withdrawals.service.js';

export interface History {
  deposits?: DepositView[];
  withdrawals?: WithdrawalView[];
  as_of_seq: number;
}

@Injectable()
export class HistoryService {
  constructor(
    @InjectDataSource() private readonly db: DataSource,
    private readonly deposits: DepositsService,
    private readonly withdrawals: WithdrawalsService,
  ) {}

  async of(userId: string, request: HistoryRequestDto): Promise<History> {
    const type = request.type ?? 'all';
    const limit = request.limit ?? 20;
    const offset = request.offset ?? 0;
    // One snapshot for the lists and the seq.
    return this.db.transaction('REPEATABLE READ', async (tx) => {
      const { rows } = await sql<{ seq: string | null }>(
        tx,
        `SELECT (SELECT cs.seq FROM users u JOIN channel_seq cs ON cs.channel = u.channel WHERE u.id = $1) AS seq`,
        [userId],
      );
      const history: History = { as_of_seq: Number(rows[0]?.seq ?? 0) };
      if (type !== 'withdrawals') history.deposits = await this.deposits.listOf(tx, userId, limit, offset);
      if (type !== 'deposits') history.withdrawals = await this.withdrawals.listOf(tx, userId, limit, offset);
      return history;
    });
  }
}
