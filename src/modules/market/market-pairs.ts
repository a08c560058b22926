// The pairs of the exchange as the engine and the wire see them: rules in minor units from
// config/markets.json, and amounts and prices written for clients (JSON numbers in major units).
import type { BusinessConfig, PairConfig } from '../../core/config/business-config.js';
import { toMajor } from '../../shared/money.js';
import type { PairRules } from './engine/index.js';

export const BASE_DECIMALS = 8;

export interface MarketPair extends PairConfig {
  rules: PairRules;
  quoteDecimals: number;
}

export function marketPairs(business: BusinessConfig): Map<string, MarketPair> {
  return new Map(
    business.pairs.map((pair) => {
      const quoteDecimals = business.currencies.get(pair.quote)!.decimals;
      const rules: PairRules = {
        symbol: pair.symbol,
        base: pair.base,
        quote: pair.quote,
        quoteDecimals,
        baseDecimals: BASE_DECIMALS,
        priceTick: pair.priceTick,
        amountStep: pair.amountStep,
        minAmount: pair.minAmount,
        maxAmount: pair.maxAmount,
        makerFeePpm: business.marketFees.makerPpm,
        takerFeePpm: business.marketFees.takerPpm,
      };
      return [pair.symbol, { ...pair, rules, quoteDecimals }];
    }),
  );
}

/** An amount of the base currency (satoshi) as a JSON number of BTC. */
export const btc = (sats: bigint): number => toMajor(sats, BASE_DECIMALS);

/** A price or quote amount (quote minor units) as a JSON number of the quote currency. */
export const quoteMajor = (minor: bigint, pair: MarketPair): number => toMajor(minor, pair.quoteDecimals);

/**
 * The average price of `quote` minor units paid for `sats`, in quote minor units per BTC, rounded
 * half-up to the minor unit; null when nothing was filled.
 */
export function averagePrice(quote: bigint, sats: bigint): bigint | null {
  if (sats === 0n) return null;
  return (quote * 100_000_000n * 2n + sats) / (sats * 2n);
}
