// The refusals of partner selection, with stable codes; `field` names the request field at fault.
import { DomainError } from '../../core/errors/domain-error.js';
import type { Partner } from './partners.types.js';

export const partnerErrors = {
  notFound: (partnerId: string) =>
    new DomainError('PARTNER_NOT_FOUND', `unknown partner ${partnerId}`, { field: 'partner_id' }),

  inactive: (partner: Partner) =>
    new DomainError('PARTNER_INACTIVE', `partner ${partner.id} is not available`, { field: 'partner_id' }),

  unknownService: (service: string, known: readonly string[]) =>
    new DomainError(
      'UNSUPPORTED_SERVICE',
      `unknown service ${service}${known.length ? ` (one of ${known.join(', ')})` : ''}`,
      { field: 'service' },
    ),

  serviceUnavailable: (service: string) =>
    new DomainError('UNSUPPORTED_SERVICE', `no partner currently offers ${service}`, { field: 'service' }),

  wrongService: (partner: Partner, service: string) =>
    new DomainError('PARTNER_SERVICE_MISMATCH', `partner ${partner.id} offers ${partner.service}, not ${service}`, {
      field: 'partner_id',
    }),

  currencyNotServed: (partner: Partner, currency: string) =>
    new DomainError(
      'UNSUPPORTED_CURRENCY',
      `partner ${partner.id} does not serve ${currency} (it serves ${partner.currencies.join(', ')})`,
      { field: 'currency' },
    ),

  noPartnerForCurrency: (service: string | undefined, currency: string) =>
    new DomainError(
      'UNSUPPORTED_CURRENCY',
      service ? `no ${service} partner serves ${currency}` : `no partner serves ${currency}`,
      { field: 'currency' },
    ),
};
