// UserRequestMap's keys are checked by the compiler against the list in realtime-contract.ts; this
// checks the list against what the gateways actually answer, so a map entry without a handler (or a
// handler registered some other way) is caught too.
import 'reflect-metadata';
import { MESSAGE_METADATA } from '@nestjs/websockets/constants.js';
import { describe, expect, it } from 'vitest';
import { AccountsGateway } from './modules/accounts/accounts.gateway.js';
import { FeesGateway } from './modules/fees/fees.gateway.js';
import { StatementsGateway } from './modules/ledger/statements.gateway.js';
import { MarketGateway } from './modules/market/market.gateway.js';
import { NotificationsGateway } from './modules/notifications/notifications.gateway.js';
import { PartnersGateway } from './modules/partners/partners.gateway.js';
import { PaymentsGateway } from './modules/payments/payments.gateway.js';
import { TransfersGateway } from './modules/transfers/transfers.gateway.js';
import { VerificationGateway } from './modules/verification/verification.gateway.js';
import { IDEMPOTENT_REQUEST_TYPES, USER_REQUEST_TYPES } from './realtime-contract.js';
import { UserChannelsGateway } from './core/realtime/realtime.gateways.js';

const GATEWAYS = [
  AccountsGateway,
  FeesGateway,
  StatementsGateway,
  MarketGateway,
  NotificationsGateway,
  PartnersGateway,
  PaymentsGateway,
  TransfersGateway,
  VerificationGateway,
  UserChannelsGateway,
];

/** The message names a gateway class subscribes to. */
function messagesOf(gateway: { prototype: object }): string[] {
  const proto = gateway.prototype as Record<string, unknown>;
  return Object.getOwnPropertyNames(proto).flatMap((name) => {
    const method = proto[name];
    if (typeof method !== 'function') return [];
    const message = Reflect.getMetadata(MESSAGE_METADATA, method) as string | undefined;
    return message === undefined ? [] : [message];
  });
}

describe('the /user request list', () => {
  it('is exactly the request types the gateways answer (channel and leave are the channel protocol)', () => {
    const answered = GATEWAYS.flatMap(messagesOf).filter((m) => m !== 'channel' && m !== 'leave');
    expect([...answered].sort()).toEqual([...USER_REQUEST_TYPES].sort());
    expect(new Set(answered).size).toBe(answered.length);
  });

  it('names as idempotent only requests it lists', () => {
    for (const type of IDEMPOTENT_REQUEST_TYPES) expect(USER_REQUEST_TYPES).toContain(type);
  });
});
