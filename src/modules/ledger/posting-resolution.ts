// How a posting order (posting-order.ts: accounts named by owner, a rule for the recipient) becomes
// a PostingRequest with account ids, for the transaction of `spread` (which shard of each split
// system account it takes). The posting queue's, in functions of the accounts service.
import type { EntityManager } from 'typeorm';
import { DomainError } from '../../core/errors/domain-error.js';
import type { AccountsService } from '../accounts/accounts.service.js';
import type { LockedAccount, PostingRequest } from './ledger.types.js';
import { walletKey, type AccountRef, type PostingOrder, type WalletRef } from './posting-order.js';

/** The id of `ref` in a transaction of `spread`; undefined for a wallet not in `wallets` (yet). */
export function accountIdOf(
  accounts: AccountsService,
  ref: AccountRef,
  wallets: ReadonlyMap<string, string>,
  spread: number,
): string | undefined {
  if ('split' in ref) return accounts.systemAccount(ref.split, ref.currency, '', spread);
  if ('id' in ref) return ref.id;
  return wallets.get(walletKey(ref.wallet, ref.currency));
}

/**
 * The order's wallets inside its transaction: those not known before are read, and opened when
 * the posting credits them (the owner must exist); a debited wallet that does not exist is
 * ACCOUNT_NOT_FOUND naming its field.
 */
export async function findWallets(
  accounts: AccountsService,
  tx: EntityManager,
  order: PostingOrder,
  known: ReadonlyMap<string, string>,
): Promise<Map<string, string>> {
  const found = new Map(known);
  for (const { account, direction } of order.lines) {
    if (!('wallet' in account) || found.has(walletKey(account.wallet, account.currency))) continue;
    let id = await accounts.walletId(tx, account.wallet, account.currency);
    if (!id && direction === 'CR') {
      // Opened only for a user that exists; refused with the rest of the transaction.
      await accounts.openWallets(tx, account.wallet, [account.currency]);
      id = await accounts.walletId(tx, account.wallet, account.currency);
    }
    if (!id) throw missing(order, account);
    found.set(walletKey(account.wallet, account.currency), id);
  }
  return found;
}

function missing(order: PostingOrder, ref: WalletRef): DomainError {
  const active = order.activeUser;
  if (active && active.userId === ref.wallet) {
    return new DomainError('ACCOUNT_NOT_FOUND', active.message, { field: active.field });
  }
  return new DomainError('ACCOUNT_NOT_FOUND', 'account not found', { field: ref.field });
}

/** The order with its accounts resolved, after the recipient's rule is checked on the locked rows. */
export function requestOf(
  accounts: AccountsService,
  order: PostingOrder,
  wallets: ReadonlyMap<string, string>,
  locked: ReadonlyMap<string, LockedAccount>,
  spread: number,
): PostingRequest {
  const id = (ref: AccountRef) => {
    const found = accountIdOf(accounts, ref, wallets, spread);
    if (found === undefined) throw new Error(`posting names an account it did not resolve: ${JSON.stringify(ref)}`);
    return found;
  };
  const active = order.activeUser;
  if (active) {
    const owned = [...locked.values()].filter((a) => a.ownerUserId === active.userId);
    if (owned.length === 0 || owned.some((a) => a.ownerState !== 'active')) {
      throw new DomainError('ACCOUNT_NOT_FOUND', active.message, { field: active.field });
    }
  }
  return {
    type: order.type,
    description: order.description,
    lines: order.lines.map(({ account, direction, amount, description }) => ({
      accountId: id(account),
      direction,
      amount,
      description,
    })),
    fees: (order.fees ?? []).map(({ feeType, amount, currency, account, payer }) => ({
      feeType,
      amount,
      currency,
      accountId: id(account),
      payerAccountId: id(payer),
    })),
    initiatedBy: order.initiatedBy,
    metadata: order.metadata,
    captures: order.captures,
    announce: order.announce ?? true,
  };
}
