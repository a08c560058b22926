// What the rest of the application knows of a payment partner. Its webhook secrets are not part of
// it on purpose: a Partner may be logged or sent to a client, its secrets never.
export const PARTNER_STATUSES = ['active', 'inactive'] as const;
export type PartnerStatus = (typeof PARTNER_STATUSES)[number];

export interface Partner {
  /** PTN-MPESA */
  id: string;
  name: string;
  /** mpesa, paypal, bank_transfer, crypto */
  service: string;
  country: string;
  /** Currency codes the partner pays in and out, in the order of the configuration. */
  currencies: readonly string[];
  /** Which PartnerAdapter talks to it (`sandbox`). */
  adapter: string;
  status: PartnerStatus;
}

/** What a client sees of a partner (get_partners). */
export interface PartnerView {
  id: string;
  name: string;
  country: string;
  service: string;
  status: PartnerStatus;
  currencies: string[];
}

export function toPartnerView(partner: Partner): PartnerView {
  return {
    id: partner.id,
    name: partner.name,
    country: partner.country,
    service: partner.service,
    status: partner.status,
    currencies: [...partner.currencies],
  };
}
