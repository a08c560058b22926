// The state the last commit this process saw left each account in (balance, pending amounts,
// version, flags, its owner's state and channel), for the posting queue's postings that apply
// themselves to it without reading it first (posting-queue.ts). Only a hint: the database checks it
// under the lock (LedgerService.lockExpected) and a posting that finds it out of date runs again the
// ordinary way. Bounded: past `capacity` accounts the least recently used are forgotten.
import type { LockedAccount } from './ledger.types.js';

export class KnownStates {
  private readonly states = new Map<string, LockedAccount>();

  constructor(private readonly capacity = 10_000) {}

  /** Copies of the states of `ids`, or undefined unless every one is known. */
  copiesOf(ids: Iterable<string>): Map<string, LockedAccount> | undefined {
    const copies = new Map<string, LockedAccount>();
    for (const id of ids) {
      const state = this.states.get(id);
      if (!state) return undefined;
      copies.set(id, { ...state });
    }
    return copies;
  }

  /** Keeps copies of `accounts` as committed now. */
  remember(accounts: Iterable<LockedAccount>): void {
    for (const account of accounts) {
      this.states.delete(account.id);
      this.states.set(account.id, { ...account });
    }
    for (const id of this.states.keys()) {
      if (this.states.size <= this.capacity) break;
      this.states.delete(id);
    }
  }

  /** Updates what is known of accounts with what changed in them (`moves`); others are left. */
  update(moves: Iterable<Partial<LockedAccount> & { id: string }>): void {
    for (const move of moves) {
      const state = this.states.get(move.id);
      if (state) Object.assign(state, move);
    }
  }

  forget(ids: Iterable<string>): void {
    for (const id of ids) this.states.delete(id);
  }

  get size(): number {
    return this.states.size;
  }
}
