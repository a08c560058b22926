// Peer-to-peer transfers and currency conversions: each one posting (which may share its
// transaction with others that arrive together, see PostingQueue), with its fee from the schedule,
// its idempotency key claimed in the same transaction, and its events (balance from the ledger;
// transfer_completed, transaction_completed here).
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
import { FxService, type FxRate } from '../fx/fx.service.js';
import { requestHash, type KeyClaim } from '../idempotency/idempotency.service.js';
import { PostingQueue } from '../ledger/posting-queue.js';
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

const recipientNotFound = () => new DomainError('ACCOUNT_NOT_FOUND', 'recipient not found', { field: 'to_user_id' });

@Injectable()
export class TransfersService {
  constructor(
    private readonly postings: PostingQueue,
    private readonly accounts: AccountsService,
    private readonly fees: FeesService,
    private readonly fx: FxService,
    private readonly publisher: RealtimePublisher,
    private readonly config: AppConfig,
  ) {}

  /**
   * Moves `amount` from the user's wallet to the recipient's, the fee on top to the fee account.
   * When both wallets are known (the usual case) the transfer may share a transaction with
   * others; a recipient without a wallet in the currency gets one opened, in a transaction of its
   * own so a refusal opens nothing.
   */
  async transfer(userId: string, request: TransferRequestDto): Promise<TransferResult> {
    const currency = currencyOf(this.config, request.currency);
    const amount = amountOf(request.amount, currency);
    const recipient = request.to_user_id;
    if (recipient === userId) throw DomainError.validation('to_user_id', 'cannot transfer to yourself');
    const { fee } = this.fees.quote('transfer', amount, currency.code);
    const description = request.description ?? 'Transfer';

    const [knownFrom, knownTo] = await this.accounts.committedWalletIds([userId, recipient], currency.code);
    let fromId = knownFrom ?? '';
    let toId = knownTo ?? '';
    const feeAccount = (spread: number) => this.accounts.systemAccount('fee_revenue', currency.code, '', spread);
    return this.postings.submit<TransferResult>({
      accountIds: knownFrom && knownTo ? (spread) => [knownFrom, knownTo, feeAccount(spread)] : undefined,
      resolveAccounts: async (tx, spread) => {
        ({ fromId, toId } = await this.transferAccounts(tx, userId, recipient, currency.code));
        return [fromId, toId, feeAccount(spread)];
      },
      idempotency: this.claimOf(userId, request.idempotency_key, 'transfer', () =>
        requestHash({ to_user_id: recipient, amount: amount.toString(), currency: currency.code, description }),
      ),
      plan: (accounts, spread) => {
        if (accounts.get(toId)?.ownerState !== 'active') throw recipientNotFound();
        const lines: PostingLine[] = [
          { accountId: fromId, direction: 'DR', amount: amount + fee, description: `Transfer to user ${recipient}` },
          { accountId: toId, direction: 'CR', amount, description: `Transfer from user ${userId}` },
        ];
        if (fee > 0n) {
          lines.push({ accountId: feeAccount(spread), direction: 'CR', amount: fee, description: 'Transfer fee' });
        }
        return {
          type: 'TRANSACTION_TYPE_TRANSFER',
          description,
          lines,
          fees:
            fee > 0n
              ? [{ feeType: FEE_TYPE, amount: fee, currency: currency.code, accountId: feeAccount(spread) }]
              : [],
          initiatedBy: userId,
          metadata: { from_user_id: userId, to_user_id: recipient },
        };
      },
      finish: (tx, posted) => {
        this.announceTransfer(tx, posted, fromId, toId, amount, fee, currency);
        return {
          receipt_code: posted.receiptCode,
          journal_id: Number(posted.journalId),
          amount: toMajor(amount, currency.decimals),
          fee: toMajor(fee, currency.decimals),
          agent_commission: 0,
          currency: currency.code,
          created_at: posted.createdAt.toISOString(),
        };
      },
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

    // Rate, wallets and a first-credit wallet are found inside the transaction: it runs alone.
    let rate: FxRate;
    let converted = 0n;
    let fromId = '';
    let toId = '';
    const fxSource = (spread: number) => this.accounts.systemAccount('fx_liquidity', source.code, '', spread);
    const fxDest = (spread: number) => this.accounts.systemAccount('fx_liquidity', dest.code, '', spread);
    const feeAccount = (spread: number) => this.accounts.systemAccount('fee_revenue', source.code, '', spread);
    return this.postings.submit<ConversionResult>({
      resolveAccounts: async (tx, spread) => {
        rate = await this.fx.rate(tx, source.code, dest.code);
        converted = convertMinor(amount, source.decimals, dest.decimals, rate.rate);
        if (converted <= 0n) throw DomainError.validation('amount', 'amount is too small to convert');
        const from = await this.accounts.walletId(tx, userId, source.code);
        if (!from) throw new DomainError('ACCOUNT_NOT_FOUND', 'account not found', { field: 'from_currency' });
        fromId = from;
        if (recipient !== userId) await this.requireUser(tx, recipient);
        toId = await this.accounts.ensureWallet(tx, recipient, dest.code);
        return [fromId, toId, fxSource(spread), fxDest(spread), feeAccount(spread)];
      },
      idempotency: this.claimOf(userId, request.idempotency_key, 'convert_and_transfer', () =>
        requestHash({
          from_currency: source.code,
          to_currency: dest.code,
          amount: amount.toString(),
          to_user_id: recipient,
          description,
        }),
      ),
      plan: (_accounts, spread) => {
        const lines: PostingLine[] = [
          { accountId: fromId, direction: 'DR', amount: amount + fee, description: `Conversion to ${dest.code}` },
          { accountId: fxSource(spread), direction: 'CR', amount, description: `Conversion from ${source.code}` },
          { accountId: fxDest(spread), direction: 'DR', amount: converted, description: `Conversion to ${dest.code}` },
          { accountId: toId, direction: 'CR', amount: converted, description: `Conversion from ${source.code}` },
        ];
        if (fee > 0n) {
          lines.push({ accountId: feeAccount(spread), direction: 'CR', amount: fee, description: 'Conversion fee' });
        }
        return {
          type: 'TRANSACTION_TYPE_CONVERSION',
          description,
          lines,
          fees:
            fee > 0n ? [{ feeType: FEE_TYPE, amount: fee, currency: source.code, accountId: feeAccount(spread) }] : [],
          initiatedBy: userId,
          metadata: { fx_rate_id: Number(rate.id), fx_rate: rateScaledToString(rate.rate), to_user_id: recipient },
        };
      },
      finish: (tx, posted) => {
        const timestamp = Math.floor(posted.createdAt.getTime() / 1000);
        const completed = (accountId: string, value: bigint, currency: CurrencyConfig, feeShown: bigint) => {
          const account = posted.accounts.get(accountId)!;
          this.publisher.publish(tx, account.ownerChannel!, 'transaction_completed', {
            receipt_code: posted.receiptCode,
            transaction_id: Number(posted.journalId),
            transaction_type: 'conversion',
            amount: toMajor(value, currency.decimals),
            currency: currency.code,
            balance_after: toMajor(account.balance, currency.decimals),
            fee: toMajor(feeShown, currency.decimals),
            timestamp,
          });
        };
        completed(fromId, amount, source, fee);
        completed(toId, converted, dest, 0n);
        return {
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
      },
    });
  }

  /** The key's claim, if the request has a key; the request is hashed only then. */
  private claimOf(
    userId: string,
    key: string | undefined,
    requestType: string,
    hash: () => Buffer,
  ): KeyClaim | undefined {
    return key ? { userId, key, requestType, hash: hash() } : undefined;
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
    if (found.recipient_state !== 'active') throw recipientNotFound();
    if (!found.from_id) throw new DomainError('ACCOUNT_NOT_FOUND', 'account not found', { field: 'currency' });
    const toId = found.to_id ? String(found.to_id) : await this.accounts.ensureWallet(tx, recipient, currency);
    return { fromId: String(found.from_id), toId };
  }

  private async requireUser(tx: EntityManager, userId: string): Promise<void> {
    const { rows } = await sql<{ state: string }>(tx, `SELECT state FROM users WHERE id = $1`, [userId]);
    if (rows[0]?.state !== 'active') throw recipientNotFound();
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
