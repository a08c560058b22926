import { describe, expect, it } from 'vitest';
import { DomainError } from '../../core/errors/domain-error.js';
import { activePartnersOf, knownServices, pickPartner, type PartnerChoice } from './partner-picking.js';
import type { Partner } from './partners.types.js';

const partner = (id: string, service: string, currencies: string[], status: Partner['status'] = 'active'): Partner => ({
  id,
  name: `${id} name`,
  service,
  country: 'KE',
  currencies,
  adapter: 'sandbox',
  status,
});

// Listed out of id order on purpose: auto-selection must not depend on the order given.
const PARTNERS = [
  partner('PTN-MPESA-B', 'mpesa', ['KES', 'USD']),
  partner('PTN-MPESA-A', 'mpesa', ['KES']),
  partner('PTN-PAYPAL', 'paypal', ['USD', 'EUR']),
  partner('PTN-OLD', 'mpesa', ['USD', 'EUR'], 'inactive'),
  partner('PTN-FAX', 'fax', ['USD'], 'inactive'),
];

function refusal(choice: PartnerChoice, partners = PARTNERS): DomainError {
  try {
    pickPartner(partners, choice);
  } catch (error) {
    expect(error).toBeInstanceOf(DomainError);
    return error as DomainError;
  }
  throw new Error(`expected ${JSON.stringify(choice)} to be refused`);
}

describe('pickPartner', () => {
  describe('auto-selection (no partner_id)', () => {
    it('takes the active partner of the service serving the currency, lowest id first', () => {
      expect(pickPartner(PARTNERS, { service: 'mpesa', currency: 'KES' }).id).toBe('PTN-MPESA-A');
      expect(pickPartner(PARTNERS, { service: 'mpesa', currency: 'USD' }).id).toBe('PTN-MPESA-B');
      expect(pickPartner(PARTNERS, { service: 'paypal', currency: 'EUR' }).id).toBe('PTN-PAYPAL');
    });

    it('never picks an inactive partner, even the only one serving the currency', () => {
      const error = refusal({ service: 'mpesa', currency: 'EUR' });
      expect(error).toMatchObject({ code: 'UNSUPPORTED_CURRENCY', field: 'currency' });
      expect(error.message).toBe('no mpesa partner serves EUR');
    });

    it('without a service, takes any active partner serving the currency', () => {
      expect(pickPartner(PARTNERS, { currency: 'EUR' }).id).toBe('PTN-PAYPAL');
      expect(pickPartner(PARTNERS, { currency: 'KES' }).id).toBe('PTN-MPESA-A');
      expect(refusal({ currency: 'BTC' })).toMatchObject({
        code: 'UNSUPPORTED_CURRENCY',
        message: 'no partner serves BTC',
      });
    });

    it('refuses an unknown service, naming the services on offer', () => {
      const error = refusal({ service: 'carrier_pigeon', currency: 'USD' });
      expect(error).toMatchObject({ code: 'UNSUPPORTED_SERVICE', field: 'service' });
      expect(error.message).toBe('unknown service carrier_pigeon (one of mpesa, paypal)');
    });

    it('refuses a known service whose partners are all inactive', () => {
      expect(refusal({ service: 'fax', currency: 'USD' })).toMatchObject({
        code: 'UNSUPPORTED_SERVICE',
        field: 'service',
        message: 'no partner currently offers fax',
      });
    });
  });

  describe('a named partner', () => {
    it('is taken when active, of the service and serving the currency', () => {
      expect(pickPartner(PARTNERS, { service: 'mpesa', currency: 'USD', partnerId: 'PTN-MPESA-B' }).id).toBe(
        'PTN-MPESA-B',
      );
      expect(pickPartner(PARTNERS, { currency: 'USD', partnerId: 'PTN-PAYPAL' }).id).toBe('PTN-PAYPAL');
    });

    it('is refused when unknown', () => {
      expect(refusal({ service: 'mpesa', currency: 'KES', partnerId: 'PTN-NOPE' })).toMatchObject({
        code: 'PARTNER_NOT_FOUND',
        field: 'partner_id',
        message: 'unknown partner PTN-NOPE',
      });
    });

    it('is refused when inactive', () => {
      expect(refusal({ service: 'mpesa', currency: 'USD', partnerId: 'PTN-OLD' })).toMatchObject({
        code: 'PARTNER_INACTIVE',
        field: 'partner_id',
      });
    });

    it('is refused when it offers another service', () => {
      expect(refusal({ service: 'mpesa', currency: 'USD', partnerId: 'PTN-PAYPAL' })).toMatchObject({
        code: 'PARTNER_SERVICE_MISMATCH',
        field: 'partner_id',
        message: 'partner PTN-PAYPAL offers paypal, not mpesa',
      });
    });

    it('is refused when it does not serve the currency, naming the ones it does', () => {
      expect(refusal({ service: 'mpesa', currency: 'USD', partnerId: 'PTN-MPESA-A' })).toMatchObject({
        code: 'UNSUPPORTED_CURRENCY',
        field: 'currency',
        message: 'partner PTN-MPESA-A does not serve USD (it serves KES)',
      });
    });

    it('is refused for an unknown service before anything is said about the partner', () => {
      expect(refusal({ service: 'nope', currency: 'USD', partnerId: 'PTN-PAYPAL' }).code).toBe('UNSUPPORTED_SERVICE');
    });
  });

  it('refuses everything when there are no partners at all', () => {
    expect(refusal({ service: 'mpesa', currency: 'KES' }, [])).toMatchObject({
      code: 'UNSUPPORTED_SERVICE',
      message: 'unknown service mpesa',
    });
    expect(refusal({ currency: 'KES' }, []).code).toBe('UNSUPPORTED_CURRENCY');
  });
});

describe('activePartnersOf', () => {
  it('lists the active partners of a service in id order, and none for a retired service', () => {
    expect(activePartnersOf(PARTNERS, 'mpesa').map((p) => p.id)).toEqual(['PTN-MPESA-A', 'PTN-MPESA-B']);
    expect(activePartnersOf(PARTNERS, 'fax')).toEqual([]);
  });

  it('refuses a service no partner ever offered', () => {
    expect(() => activePartnersOf(PARTNERS, 'telegraph')).toThrow(
      expect.objectContaining({ code: 'UNSUPPORTED_SERVICE', field: 'service' }),
    );
  });
});

describe('knownServices', () => {
  it('lists each service once, sorted', () => {
    expect(knownServices(PARTNERS)).toEqual(['fax', 'mpesa', 'paypal']);
  });
});
