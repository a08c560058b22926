// Peer-to-peer transfers and currency conversions: each one posting, said as data (which wallets,
// which fee, which rule for the recipient, which idempotency key) and handed to the ledger's
// posting queue, which claims the key, posts, announces and stores the receipt in one transaction
// (possibly shared with others that arrive together). The answer is built from the receipt.
import { Injectable } from '@nestjs/common';
import { AppConfig } from '../../core/config/app-config.js';
import { DomainError } from '../../core/errors/domain-error.js';
import { convertMinor, rateScaledToString } from '../../shared/fx.js';
import { toMajor } from '../../shared/money.js';
import { amountOf, conversionCurrenciesOf, currencyOf } from '../accounts/money-input.js';
import { FeesService } from '../fees/fees.service.js';
import { FxService } from '../fx/fx.service.js';
import { requestHash, type KeyClaim } from '../idempotency/idempotency.service.js';
import { PostingQueue } from '../ledger/posting-queue.js';
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

const RECIPIENT = { field: 'to_user_id', message: 'recipient not found' };

@Injectable()
export class TransfersService {
  constructor(
    private readonly postings: PostingQueue,
    private readonly fees: FeesService,
    private readonly fx: FxService,
    private readonly config: AppConfig,
  ) {}

  /**
   * Moves `amount` from the user's wallet to the recipient's (opened on its first credit), the fee
   * on top to the fee account. The ledger announces it (transfer_completed, transaction_completed,
   * balance) to both. With `admitted`, the posting commits only once it resolves true (a request
   * started while its rate limit was counted).
   */
  async transfer(userId: string, request: TransferRequestDto, admitted?: Promise<boolean>): Promise<TransferResult> {
    const currency = currencyOf(this.config, request.currency);
    const amount = amountOf(request.amount, currency);
    const recipient = request.to_user_id;
    if (recipient === userId) throw DomainError.validation('to_user_id', 'cannot transfer to yourself');
    const { fee } = this.fees.quote('transfer', amount, currency.code);
    const description = request.description ?? 'Transfer';
    const from = { wallet: userId, currency: currency.code, field: 'currency' };
    const to = { wallet: recipient, currency: currency.code, field: 'to_user_id' };
    const feeAccount = { split: 'fee_revenue' as const, currency: currency.code };

    const receipt = await this.postings.submit({
      type: 'TRANSACTION_TYPE_TRANSFER',
      description,
      lines: [
        { account: from, direction: 'DR', amount: amount + fee, description: `Transfer to user ${recipient}` },
        { account: to, direction: 'CR', amount, description: `Transfer from user ${userId}` },
        ...(fee > 0n
          ? [{ account: feeAccount, direction: 'CR' as const, amount: fee, description: 'Transfer fee' }]
          : []),
      ],
      fees:
        fee > 0n ? [{ feeType: FEE_TYPE, amount: fee, currency: currency.code, account: feeAccount, payer: from }] : [],
      initiatedBy: userId,
      metadata: { from_user_id: userId, to_user_id: recipient },
      activeUser: { userId: recipient, ...RECIPIENT },
      admitted,
      idempotency: this.claimOf(userId, request.idempotency_key, 'transfer', () =>
        requestHash({ to_user_id: recipient, amount: amount.toString(), currency: currency.code, description }),
      ),
    });
    return {
      receipt_code: receipt.receipt_code,
      journal_id: receipt.journal_id,
      amount: toMajor(amount, currency.decimals),
      fee: toMajor(fee, currency.decimals),
      agent_commission: 0,
      currency: currency.code,
      created_at: receipt.created_at,
    };
  }

  /**
   * Converts through the FX liquidity accounts, so each currency nets to zero: the user pays the
   * amount plus the conversion fee in the source currency and receives amount × rate in the
   * destination currency, rounded down to its minor unit, at the latest rate when it is asked.
   * `admitted`: as for transfer().
   */
  async convert(userId: string, request: ConvertRequestDto, admitted?: Promise<boolean>): Promise<ConversionResult> {
    const { source, dest } = conversionCurrenciesOf(
      this.config,
      { code: request.from_currency, field: 'from_currency' },
      { code: request.to_currency, field: 'to_currency' },
    );
    const amount = amountOf(request.amount, source);
    const recipient = request.to_user_id ?? userId;
    const { fee } = this.fees.quote('conversion', amount, source.code);
    const description = request.description ?? `Convert ${source.code} to ${dest.code}`;
    const rate = await this.fx.latestRate(source.code, dest.code);
    const converted = convertMinor(amount, source.decimals, dest.decimals, rate.rate);
    if (converted <= 0n) throw DomainError.validation('amount', 'amount is too small to convert');
    const from = { wallet: userId, currency: source.code, field: 'from_currency' };
    const to = { wallet: recipient, currency: dest.code, field: 'to_user_id' };
    const fxSource = { split: 'fx_liquidity' as const, currency: source.code };
    const fxDest = { split: 'fx_liquidity' as const, currency: dest.code };
    const feeAccount = { split: 'fee_revenue' as const, currency: source.code };

    const receipt = await this.postings.submit({
      type: 'TRANSACTION_TYPE_CONVERSION',
      description,
      lines: [
        { account: from, direction: 'DR', amount: amount + fee, description: `Conversion to ${dest.code}` },
        { account: fxSource, direction: 'CR', amount, description: `Conversion from ${source.code}` },
        { account: fxDest, direction: 'DR', amount: converted, description: `Conversion to ${dest.code}` },
        { account: to, direction: 'CR', amount: converted, description: `Conversion from ${source.code}` },
        ...(fee > 0n
          ? [{ account: feeAccount, direction: 'CR' as const, amount: fee, description: 'Conversion fee' }]
          : []),
      ],
      fees:
        fee > 0n ? [{ feeType: FEE_TYPE, amount: fee, currency: source.code, account: feeAccount, payer: from }] : [],
      initiatedBy: userId,
      metadata: {
        fx_rate_id: Number(rate.id),
        fx_rate: rateScaledToString(rate.rate),
        to_user_id: recipient,
        converted_amount: converted.toString(),
      },
      activeUser: recipient === userId ? undefined : { userId: recipient, ...RECIPIENT },
      admitted,
      idempotency: this.claimOf(userId, request.idempotency_key, 'convert_and_transfer', () =>
        requestHash({
          from_currency: source.code,
          to_currency: dest.code,
          amount: amount.toString(),
          to_user_id: recipient,
          description,
        }),
      ),
    });
    // From the receipt: a replay answers with the rate of its first run.
    const { metadata } = receipt;
    return {
      receipt_code: receipt.receipt_code,
      journal_id: receipt.journal_id,
      source_currency: source.code,
      dest_currency: dest.code,
      source_amount: toMajor(amount, source.decimals),
      converted_amount: toMajor(BigInt(metadata.converted_amount as string), dest.decimals),
      fx_rate: metadata.fx_rate as string,
      fx_rate_id: metadata.fx_rate_id as number,
      fee: toMajor(fee, source.decimals),
      created_at: receipt.created_at,
    };
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
}
