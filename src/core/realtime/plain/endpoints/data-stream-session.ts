// The state of one `/api/data` connection (seed 003): who it authenticated as, the user's accounts
// as far as they are known, its subscriptions, its deadline to authenticate, and the two queues
// that keep its client's frames, and the events for it, each handled in arrival order.
import type { PlainContext } from '../plain-protocol.js';
import type { DataUser, OwnAccounts } from './data-stream-events.js';

/** How long a connection may stay unauthenticated, and how long `connected` may take after CONNECT. */
export const AUTH_TIMEOUT_MS = 10_000;

/**
 * Runs tasks one after another in the order given. The caller gets each task's own outcome; the
 * chain itself goes on past a failed task.
 */
export class SerialQueue {
  private tail: Promise<unknown> = Promise.resolve();

  run<T>(task: () => T | Promise<T>): Promise<T> {
    const result = this.tail.then(task);
    this.tail = result.catch(() => undefined);
    return result;
  }
}

/** The user's wallets: account number ↔ currency (one wallet per currency). */
export class AccountBook implements OwnAccounts {
  private readonly currencyOf = new Map<string, string>();
  private readonly numberOfCurrency = new Map<string, string>();

  learn(accountNumber: string, currency: string): void {
    this.currencyOf.set(accountNumber, currency);
    this.numberOfCurrency.set(currency, accountNumber);
  }

  has(accountNumber: string): boolean {
    return this.currencyOf.has(accountNumber);
  }

  numberOf(currency: string): string | undefined {
    return this.numberOfCurrency.get(currency);
  }
}

/** What is read of get_accounts' answer (modules/accounts/accounts.gateway.ts). */
interface AccountsAnswer {
  type: 'success' | 'error';
  data?: { data?: { accounts?: { account_number: string; currency: string }[] } };
}

export class DataSession {
  readonly frames = new SerialQueue();
  readonly events = new SerialQueue();
  readonly accounts = new AccountBook();
  readonly subscriptions = new Set<string>();
  /** Set once authenticated. */
  user?: DataUser & { plan: string };
  /** Refused API keys so far. */
  badTries = 0;
  private connectedSignal?: () => void;
  private refreshing?: Promise<void>;
  private readonly deadline: NodeJS.Timeout;

  constructor(onDeadline: () => void) {
    this.deadline = setTimeout(() => {
      if (!this.user) onDeadline();
    }, AUTH_TIMEOUT_MS);
    this.deadline.unref();
  }

  authenticated(user: DataUser & { plan: string }): void {
    this.user = user;
    clearTimeout(this.deadline);
  }

  /**
   * Resolves true when socket.io's `connected` event arrives (the user channel and the internal
   * streams are joined then), false if it does not in time. Called before CONNECT is sent: the
   * event may arrive in the same turn as the CONNECT's answer.
   */
  expectConnected(): Promise<boolean> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => resolve(false), AUTH_TIMEOUT_MS);
      timer.unref();
      this.connectedSignal = () => {
        clearTimeout(timer);
        resolve(true);
      };
    });
  }

  connectedArrived(): void {
    this.connectedSignal?.();
    this.connectedSignal = undefined;
  }

  /**
   * Reads the user's accounts (get_accounts, a request counted like the client's own); concurrent
   * calls share one read. A refused read (rate limit, no accounts yet) leaves what is known.
   */
  refreshAccounts(ctx: PlainContext): Promise<void> {
    this.refreshing ??= this.readAccounts(ctx).finally(() => {
      this.refreshing = undefined;
    });
    return this.refreshing;
  }

  private async readAccounts(ctx: PlainContext): Promise<void> {
    const answer = (await ctx.request('get_accounts', {})) as AccountsAnswer | undefined;
    if (answer?.type !== 'success') return;
    for (const { account_number, currency } of answer.data?.data?.accounts ?? []) {
      this.accounts.learn(account_number, currency);
    }
  }
}
