import { MessageBody } from '@nestjs/websockets';
import { AppConfig } from '../../core/config/app-config.js';
import { DomainError } from '../../core/errors/domain-error.js';
import type { AuthenticatedPrincipal } from '../../core/realtime/realtime.types.js';
import type { RequestResult } from '../../core/realtime/ws-envelope.js';
import { UserGateway, UserRequest, WsPrincipal } from '../../core/realtime/ws-requests.js';
import { convertMinor } from '../../shared/fx.js';
import { toMajor } from '../../shared/money.js';
import { FxService } from '../fx/fx.service.js';
import { AccountsService, type AccountRow } from './accounts.service.js';
import { AccountBalanceRequestDto } from './dto/account-requests.dto.js';

/** A wallet's amounts in major units; available = balance − pending_debit. */
export interface WalletBalances {
  balance: number;
  available_balance: number;
  pending_debit: number;
  pending_credit: number;
}

export interface WalletView extends WalletBalances {
  id: number;
  account_number: string;
  currency: string;
  purpose: 'ACCOUNT_PURPOSE_WALLET';
  account_type: 'ACCOUNT_TYPE_REAL';
  is_active: boolean;
  is_locked: boolean;
  created_at: string;
}

/** The reads below carry `as_of_seq`: the user channel's seq they are consistent with. */
export interface AccountsReply {
  accounts: WalletView[];
  count: number;
  as_of_seq: number;
}

export interface AccountBalanceReply extends WalletBalances {
  account_number: string;
  currency: string;
  last_transaction: string | null;
  version: number;
  as_of_seq: number;
}

export interface OwnerSummaryReply {
  account_balances: { account_number: string; currency: string; balance: number; available_balance: number }[];
  total_balance_usd: number;
  total_accounts: number;
  as_of_seq: number;
}

/** The requests this gateway answers: their bodies and replies (declared in UserRequestMap). */
export interface AccountsRequests {
  get_accounts: { body: void; reply: AccountsReply };
  get_account_balance: { body: AccountBalanceRequestDto; reply: AccountBalanceReply };
  get_owner_summary: { body: void; reply: OwnerSummaryReply };
}

declare module '../../core/realtime/user-requests.js' {
  interface UserRequestMap extends AccountsRequests {}
}

@UserGateway()
export class AccountsGateway {
  constructor(
    private readonly accounts: AccountsService,
    private readonly fx: FxService,
    private readonly config: AppConfig,
  ) {}

  @UserRequest('get_accounts')
  async list(@WsPrincipal() user: AuthenticatedPrincipal): Promise<RequestResult<AccountsReply>> {
    const { accounts, asOfSeq } = await this.accounts.walletsOf(user.userId);
    if (accounts.length === 0) throw new DomainError('NO_ACCOUNTS', 'user has no accounts');
    return {
      message: 'accounts retrieved',
      data: {
        accounts: accounts.map((a) => ({
          id: Number(a.id),
          account_number: a.account_number,
          currency: a.currency,
          purpose: 'ACCOUNT_PURPOSE_WALLET' as const,
          account_type: 'ACCOUNT_TYPE_REAL' as const,
          is_active: a.is_active,
          is_locked: a.is_locked,
          created_at: a.created_at.toISOString(),
          ...this.balances(a),
        })),
        count: accounts.length,
        as_of_seq: asOfSeq,
      },
    };
  }

  @UserRequest('get_account_balance')
  async balance(
    @WsPrincipal() user: AuthenticatedPrincipal,
    @MessageBody() body: AccountBalanceRequestDto,
  ): Promise<RequestResult<AccountBalanceReply>> {
    const { account, asOfSeq } = await this.accounts.ownWallet(user.userId, body.account_number);
    return {
      message: 'balance retrieved',
      data: {
        account_number: account.account_number,
        ...this.balances(account),
        currency: account.currency,
        last_transaction: account.last_transaction_at?.toISOString() ?? null,
        version: Number(account.version),
        as_of_seq: asOfSeq,
      },
    };
  }

  /** Every wallet, and their total in USD at the latest rates (each rounded down to the cent). */
  @UserRequest('get_owner_summary')
  async summary(@WsPrincipal() user: AuthenticatedPrincipal): Promise<RequestResult<OwnerSummaryReply>> {
    const { accounts, asOfSeq } = await this.accounts.walletsOf(user.userId);
    if (accounts.length === 0) throw new DomainError('NO_ACCOUNTS', 'user has no accounts');
    const usd = this.config.business.currencies.get('USD')!;
    const rates = new Map((await this.fx.latest()).filter((r) => r.quote === 'USD').map((r) => [r.base, r.rate]));
    let totalUsd = 0n;
    for (const account of accounts) {
      const balance = BigInt(account.balance);
      const { decimals } = this.config.business.currencies.get(account.currency)!;
      if (account.currency === 'USD') totalUsd += balance;
      else if (rates.has(account.currency)) {
        totalUsd += convertMinor(balance, decimals, usd.decimals, rates.get(account.currency)!);
      }
    }
    return {
      message: 'owner summary',
      data: {
        account_balances: accounts.map((a) => ({
          account_number: a.account_number,
          currency: a.currency,
          balance: this.balances(a).balance,
          available_balance: this.balances(a).available_balance,
        })),
        total_balance_usd: toMajor(totalUsd, usd.decimals),
        total_accounts: accounts.length,
        as_of_seq: asOfSeq,
      },
    };
  }

  private balances(account: AccountRow): WalletBalances {
    const { decimals } = this.config.business.currencies.get(account.currency)!;
    const balance = BigInt(account.balance);
    const pendingDebit = BigInt(account.pending_debit);
    return {
      balance: toMajor(balance, decimals),
      available_balance: toMajor(balance - pendingDebit, decimals),
      pending_debit: toMajor(pendingDebit, decimals),
      pending_credit: toMajor(BigInt(account.pending_credit), decimals),
    };
  }
}
