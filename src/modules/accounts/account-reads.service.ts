// The reads clients make of their own wallets (get_accounts, get_account_balance,
// get_owner_summary): rows from AccountsService, the USD total at the latest rates, shaped by
// account-views.ts.
import { Injectable } from '@nestjs/common';
import { AppConfig } from '../../core/config/app-config.js';
import { DomainError } from '../../core/errors/domain-error.js';
import { FxService } from '../fx/fx.service.js';
import {
  toAccountBalanceReply,
  toOwnerSummaryReply,
  totalIn,
  toWalletView,
  type AccountBalanceReply,
  type AccountsReply,
  type OwnerSummaryReply,
} from './account-views.js';
import { AccountsService, type AccountRow } from './accounts.service.js';

@Injectable()
export class AccountReadsService {
  constructor(
    private readonly accounts: AccountsService,
    private readonly fx: FxService,
    private readonly config: AppConfig,
  ) {}

  /** Every wallet of the user; NO_ACCOUNTS when there is none. */
  async list(userId: string): Promise<AccountsReply> {
    const { accounts, asOfSeq } = await this.wallets(userId);
    return {
      accounts: accounts.map((a) => toWalletView(a, this.decimalsOf(a.currency))),
      count: accounts.length,
      as_of_seq: asOfSeq,
    };
  }

  /** One wallet of the user by its number; ACCOUNT_NOT_FOUND for anyone else's. */
  async balance(userId: string, accountNumber: string): Promise<AccountBalanceReply> {
    const { account, asOfSeq } = await this.accounts.ownWallet(userId, accountNumber);
    return toAccountBalanceReply(account, this.decimalsOf(account.currency), asOfSeq);
  }

  /** Every wallet, and their total in USD at the latest rates (each rounded down to the cent). */
  async ownerSummary(userId: string): Promise<OwnerSummaryReply> {
    const { accounts, asOfSeq } = await this.wallets(userId);
    const usd = this.config.business.currencies.get('USD')!;
    const rates = new Map((await this.fx.latest()).filter((r) => r.quote === 'USD').map((r) => [r.base, r.rate]));
    const total = totalIn(accounts, usd, rates, this.decimalsOf);
    return toOwnerSummaryReply(accounts, { minor: total, decimals: usd.decimals }, this.decimalsOf, asOfSeq);
  }

  private async wallets(userId: string): Promise<{ accounts: AccountRow[]; asOfSeq: number }> {
    const wallets = await this.accounts.walletsOf(userId);
    if (wallets.accounts.length === 0) throw new DomainError('NO_ACCOUNTS', 'user has no accounts');
    return wallets;
  }

  private readonly decimalsOf = (currency: string): number => this.config.business.currencies.get(currency)!.decimals;
}
