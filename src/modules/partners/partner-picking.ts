// Which partner serves a deposit or withdrawal: pure rules over the known partners, so they are
// tested without a database. Partners are considered in id order, so auto-selection is stable.
import { partnerErrors } from './partners.errors.js';
import type { Partner } from './partners.types.js';

export interface PartnerChoice {
  /** Absent: any service (withdrawals may omit it). */
  service?: string;
  currency: string;
  /** Absent: the first active partner of the service that serves the currency. */
  partnerId?: string;
}

const byId = (a: Partner, b: Partner) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);

/** Services any known partner (active or not) offers, sorted. */
export function knownServices(partners: Iterable<Partner>): string[] {
  return [...new Set([...partners].map((p) => p.service))].sort();
}

/** The active partners of `service`; UNSUPPORTED_SERVICE when no partner ever offered it. */
export function activePartnersOf(partners: Iterable<Partner>, service: string): Partner[] {
  const all = [...partners];
  const ofService = all.filter((p) => p.service === service);
  if (ofService.length === 0) {
    throw partnerErrors.unknownService(service, knownServices(all.filter((p) => p.status === 'active')));
  }
  return ofService.filter((p) => p.status === 'active').sort(byId);
}

/** The active partner for `choice`, or the reason there is none (the error names the field). */
export function pickPartner(partners: Iterable<Partner>, choice: PartnerChoice): Partner {
  const all = [...partners];
  const { service, currency, partnerId } = choice;
  // The service is checked first: an unknown service is the client's first mistake to hear about.
  const candidates = service === undefined ? all.filter((p) => p.status === 'active') : activePartnersOf(all, service);

  if (partnerId !== undefined) {
    const partner = all.find((p) => p.id === partnerId);
    if (!partner) throw partnerErrors.notFound(partnerId);
    if (service !== undefined && partner.service !== service) throw partnerErrors.wrongService(partner, service);
    if (partner.status !== 'active') throw partnerErrors.inactive(partner);
    if (!partner.currencies.includes(currency)) throw partnerErrors.currencyNotServed(partner, currency);
    return partner;
  }

  if (service !== undefined && candidates.length === 0) throw partnerErrors.serviceUnavailable(service);
  const serving = candidates.filter((p) => p.currencies.includes(currency)).sort(byId);
  if (serving.length === 0) throw partnerErrors.noPartnerForCurrency(service, currency);
  return serving[0];
}
