// Every migration, in order. The application and the migration CLI both run this list, so a new
// migration file must be added here (the generate script prints a reminder).
import { Identity1732252800000 } from './1732252800000-identity.js';
import { Realtime1732339200000 } from './1732339200000-realtime.js';
import { Ledger1732425600000 } from './1732425600000-ledger.js';
import { Verification1732512000000 } from './1732512000000-verification.js';
import { Partners1732598400000 } from './1732598400000-partners.js';
import { Payments1732684800000 } from './1732684800000-payments.js';
import { LedgerChecks1732771200000 } from './1732771200000-ledger-checks.js';
import { OutboxUnsent1732857600000 } from './1732857600000-outbox-unsent.js';
import { OutboxJson1732944000000 } from './1732944000000-outbox-json.js';
import { OutboxWrites1733030400000 } from './1733030400000-outbox-writes.js';
import { Market1733116800000 } from './1733116800000-market.js';
import { LedgerExpectedLock1733203200000 } from './1733203200000-ledger-expected-lock.js';
import { PendingCredit1733289600000 } from './1733289600000-pending-credit.js';
import { LedgerEntriesCheck1733376000000 } from './1733376000000-ledger-entries-check.js';

export const MIGRATIONS = [
  Identity1732252800000,
  Realtime1732339200000,
  Ledger1732425600000,
  Verification1732512000000,
  Partners1732598400000,
  Payments1732684800000,
  LedgerChecks1732771200000,
  OutboxUnsent1732857600000,
  OutboxJson1732944000000,
  OutboxWrites1733030400000,
  Market1733116800000,
  LedgerExpectedLock1733203200000,
  PendingCredit1733289600000,
  LedgerEntriesCheck1733376000000,
];
