// Peer-to-peer transfers and currency conversions: each one posting in one transaction, with its
// fee from the schedule, its idempotency key claimed in the same transaction, and its events
// (balance from the ledger; transfer_completed, transaction_completed here).
import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import { AppConfig } from '../../core/config/app-config.js';
import type { CurrencyConfig } from '../../core/config/business-config.js';
import { sql } from '../../core/database/sql.js';
import { DomainError } from '../../core/errors/domain-error.js';
import { RealtimePublisher } from '../../core/realtime/realtime.publisher.js';
import { convertMinor, rateScaledToString } from '../../shared/fx.js';
import { toMajor } from '../../shared/money.js';
import { AccountsService } from '../accounts/accounts.service.js';
import { amountOf, currencyOf } from '../accounts/money-input.js';
import { FeesService } from '../fees/fees.service.js';
import { FxService } from '../fx/fx.service.js';
import { IdempotencyService, requestHash } from '../idempotency/idempotency.service.js';
import { LedgerService } from '../ledger/ledger.service.js';
import type { PostedJournal, PostingLine } from '../ledger/ledger.types.js';
import type { ConvertRequestDto, TransferRequestDto } from './dto/transfer-requests.dto.js';

export interface TransferResult {
  receipt_code: string;
  journal_id: number;
  amount: number;
  fee: number;
  agent_commission: number;
  currency: string;
  created_at: string;
}

export interface ConversionResult {
  receipt_code: string;
  journal_id: number;
  source_currency: string;
  dest_currency: string;
  source_amount: number;
  converted_amount: number;
  fx_rate: string;
  fx_rate_id: number;
  fee: number;
  created_at: string;
}

const FEE_TYPE = 'FEE_TYPE_PLATFORM';

@Injectable()
export class TransfersService {
  constructor(
    private readonly ledger: LedgerService,
    private readonly accounts: AccountsService,
    private readonly fees: FeesService,
    private readonly fx: FxService,
    private readonly idempotency: IdempotencyService,
    private readonly publisher: RealtimePublisher,
    private readonly config: AppConfig,
  ) {}

  async transfer(userId: string, request: TransferRequestDto): Promise<TransferResult> {
    const currency = currencyOf(this.config, request.currency);
    const amount = amountOf(request.amount, currency);
    if (request.to_user_id === userId) throw DomainError.validation('to_user_id', 'cannot transfer to yourself');
    const { fee } = this.fees.quote('transfer', amount, currency.code);
    const description = request.description ?? 'Transfer';
    const hash = requestHash({
      to_user_id: request.to_user_id,
      amount: amount.toString(),
      currency: currency.code,
      description,
    });

    return this.ledger.transaction(async (tx) => {
      const replay = await this.replay<TransferResult>(tx, userId, request.idempotency_key, 'transfer', hash);
      if (replay) return replay;
      const { fromId, toId } = await this.transferAccounts(tx, userId, request.to_user_id, currency.code);
      const feeAccount = this.accounts.systemAccount('fee_revenue', currency.code, '', Number(fromId));
      const lines: PostingLine[] = [
        {
          accountId: fromId,
          direction: 'DR',
          amount: amount + fee,
          description: `Transfer to user ${request.to_user_id}`,
        },
        { accountId: toId, direction: 'CR', amount, description: `Transfer from user ${userId}` },
      ];
      if (fee > 0n) lines.push({ accountId: feeAccount, direction: 'CR', amount: fee, description: 'Transfer fee' });
      const posted = await this.ledger.post(tx, {
        type: 'TRANSACTION_TYPE_TRANSFER',
        description,
        lines,
        fees: fee > 0n ? [{ feeType: FEE_TYPE, amount: fee, currency: currency.code, accountId: feeAccount }] : [],
        initiatedBy: userId,
        metadata: { from_user_id: userId, to_user_id: request.to_user_id },
      });
      this.announceTransfer(tx, posted, fromId, toId, amount, fee, currency);
      const result: TransferResult = {
        receipt_code: posted.receiptCode,
        journal_id: Number(posted.journalId),
        amount: toMajor(amount, currency.decimals),
        fee: toMajor(fee, currency.decimals),
        agent_commission: 0,
        currency: currency.code,
        created_at: posted.createdAt.toISOString(),
      };
      if (request.idempotency_key) await this.idempotency.complete(tx, userId, request.idempotency_key, result);
      return result;
    });
  }

  /**
   * Converts through the FX liquidity accounts, so each currency nets to zero: the user pays the
   * amount plus the conversion fee in the source currency and receives amount × rate in the
   * destination currency, rounded down to its minor unit.
   */
  async convert(userId: string, request: ConvertRequestDto): Promise<ConversionResult> {
    const source = currencyOf(this.config, request.from_currency, 'from_currency');
    const dest = currencyOf(this.config, request.to_currency, 'to_currency');
    if (source.code === dest.code) {
      throw DomainError.validation('to_currency', 'to_currency must differ from from_currency');
    }
    const amount = amountOf(request.amount, source);
    const recipient = request.to_user_id ?? userId;
    const { fee } = this.fees.quote('conversion', amount, source.code);
    const description = request.description ?? `Convert ${source.code} to ${dest.code}`;
    const hash = requestHash({
      from_currency: source.code,
      to_currency: dest.code,
      amount: amount.toString(),
      to_user_id: recipient,
      description,
    });

    return this.ledger.transaction(async (tx) => {
      const replay = await this.replay<ConversionResult>(
        tx,
        userId,
        request.idempotency_key,
        'convert_and_transfer',
        hash,
      );
      if (replay) return replay;
      const rate = await this.fx.rate(tx, source.code, dest.code);
      const converted = convertMinor(amount, source.decimals, dest.decimals, rate.rate);
      if (converted <= 0n) throw DomainError.validation('amount', 'amount is too small to convert');
      const fromId = await this.accounts.walletId(tx, userId, source.code);
      if (!fromId) throw new DomainError('ACCOUNT_NOT_FOUND', 'account not found', { field: 'from_currency' });
      if (recipient !== userId) await this.requireUser(tx, recipient);
      const toId = await this.accounts.ensureWallet(tx, recipient, dest.code);
      const spread = Number(fromId);
      const fxSource = this.accounts.systemAccount('fx_liquidity', source.code, '', spread);
      const fxDest = this.accounts.systemAccount('fx_liquidity', dest.code, '', spread);
      const feeAccount = this.accounts.systemAccount('fee_revenue', source.code, '', spread);
      const lines: PostingLine[] = [
        { accountId: fromId, direction: 'DR', amount: amount + fee, description: `Conversion to ${dest.code}` },
        { accountId: fxSource, direction: 'CR', amount, description: `Conversion from ${source.code}` },
        { accountId: fxDest, direction: 'DR', amount: converted, description: `Conversion to ${dest.code}` },
        { accountId: toId, direction: 'CR', amount: converted, description: `Conversion from ${source.code}` },
      ];
      if (fee > 0n) lines.push({ accountId: feeAccount, direction: 'CR', amount: fee, description: 'Conversion fee' });
      const posted = await this.ledger.post(tx, {
        type: 'TRANSACTION_TYPE_CONVERSION',
        description,
        lines,
        fees: fee > 0n ? [{ feeType: FEE_TYPE, amount: fee, currency: source.code, accountId: feeAccount }] : [],
        initiatedBy: userId,
        metadata: { fx_rate_id: Number(rate.id), fx_rate: rateScaledToString(rate.rate), to_user_id: recipient },
      });
      const timestamp = Math.floor(posted.createdAt.getTime() / 1000);
      const from = posted.accounts.get(fromId)!;
      const to = posted.accounts.get(toId)!;
      const completed = (account: typeof from, value: bigint, currency: CurrencyConfig, feeShown: bigint) => ({
        receipt_code: posted.receiptCode,
        transaction_id: Number(posted.journalId),
        transaction_type: 'conversion',
        amount: toMajor(value, currency.decimals),
        currency: currency.code,
        balance_after: toMajor(account.balance, currency.decimals),
        fee: toMajor(feeShown, currency.decimals),
        timestamp,
      });
      this.publisher.publish(tx, from.ownerChannel!, 'transaction_completed', completed(from, amount, source, fee));
      this.publisher.publish(tx, to.ownerChannel!, 'transaction_completed', completed(to, converted, dest, 0n));
      const result: ConversionResult = {
        receipt_code: posted.receiptCode,
        journal_id: Number(posted.journalId),
        source_currency: source.code,
        dest_currency: dest.code,
        source_amount: toMajor(amount, source.decimals),
        converted_amount: toMajor(converted, dest.decimals),
        fx_rate: rateScaledToString(rate.rate),
        fx_rate_id: Number(rate.id),
        fee: toMajor(fee, source.decimals),
        created_at: posted.createdAt.toISOString(),
      };
      if (request.idempotency_key) await this.idempotency.complete(tx, userId, request.idempotency_key, result);
      return result;
    });
  }

  private async replay<T>(
    tx: EntityManager,
    userId: string,
    key: string | undefined,
    type: string,
    hash: Buffer,
  ): Promise<T | undefined> {
    if (!key) return undefined;
    const claim = await this.idempotency.claim<T>(tx, userId, key, type, hash);
    return claim.fresh ? undefined : claim.response;
  }

  /** Both wallets in one round trip; the recipient's is opened on first credit. */
  private async transferAccounts(
    tx: EntityManager,
    userId: string,
    recipient: string,
    currency: string,
  ): Promise<{ fromId: string; toId: string }> {
    const { rows } = await sql<{ recipient_state: string | null; from_id: string | null; to_id: string | null }>(
      tx,
      `SELECT (SELECT state FROM users WHERE id = $2) AS recipient_state,
              (SELECT id FROM accounts WHERE owner_user_id = $1 AND currency = $3 AND kind = 'user_wallet') AS from_id,
              (SELECT id FROM accounts WHERE owner_user_id = $2 AND currency = $3 AND kind = 'user_wallet') AS to_id`,
      [userId, recipient, currency],
    );
    const found = rows[0];
    if (found.recipient_state !== 'active') {
      throw new DomainError('ACCOUNT_NOT_FOUND', 'recipient not found', { field: 'to_user_id' });
    }
    if (!found.from_id) throw new DomainError('ACCOUNT_NOT_FOUND', 'account not found', { field: 'currency' });
    const toId = found.to_id ? String(found.to_id) : await this.accounts.ensureWallet(tx, recipient, currency);
    return { fromId: String(found.from_id), toId };
  }

  private async requireUser(tx: EntityManager, userId: string): Promise<void> {
    const { rows } = await sql<{ state: string }>(tx, `SELECT state FROM users WHERE id = $1`, [userId]);
    if (rows[0]?.state !== 'active') {
      throw new DomainError('ACCOUNT_NOT_FOUND', 'recipient not found', { field: 'to_user_id' });
    }
  }

  private announceTransfer(
    tx: EntityManager,
    posted: PostedJournal,
    fromId: string,
    toId: string,
    amount: bigint,
    fee: bigint,
    currency: CurrencyConfig,
  ): void {
    const from = posted.accounts.get(fromId)!;
    const to = posted.accounts.get(toId)!;
    const timestamp = Math.floor(posted.createdAt.getTime() / 1000);
    const major = (value: bigint) => toMajor(value, currency.decimals);
    const transfer = {
      receipt_code: posted.receiptCode,
      transaction_id: Number(posted.journalId),
      amount: major(amount),
      currency: currency.code,
      from_account: from.accountNumber,
      to_account: to.accountNumber,
      fee: major(fee),
      timestamp,
    };
    for (const account of [from, to]) {
      this.publisher.publish(tx, account.ownerChannel!, 'transfer_completed', transfer);
      this.publisher.publish(tx, account.ownerChannel!, 'transaction_completed', {
        receipt_code: posted.receiptCode,
        transaction_id: Number(posted.journalId),
        transaction_type: 'transfer',
        amount: major(amount),
        currency: currency.code,
        balance_after: major(account.balance),
        fee: major(account === from ? fee : 0n),
        timestamp,
      });
    }
  }
}
