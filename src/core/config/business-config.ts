// Business data read from CONFIG_DIR (currencies, fees, partners, plans), validated at boot the
// same way as the environment: a bad file stops the process with one line naming file and field.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { DecimalParseError, parseScaled } from '../../shared/decimal.js';

const RATE_SCALE = 6;
const currencyCode = z.string().regex(/^[A-Z]{3,5}$/, 'must be an upper-case currency code');
const decimalString = z.string().regex(/^\d+(\.\d+)?$/, 'must be a non-negative decimal string such as "10.50"');

const currenciesFile = z
  .object({
    currencies: z
      .array(
        z
          .object({
            code: currencyCode,
            name: z.string().min(1),
            decimals: z.number().int().min(0).max(18),
            max_amount: decimalString,
          })
          .strict(),
      )
      .min(1),
    default_wallets: z.array(currencyCode),
  })
  .strict();

const feeRule = z
  .object({
    rate: decimalString,
    fixed: decimalString.default('0'),
    min: decimalString.default('0'),
    max: decimalString.nullable().default(null),
  })
  .strict();

export const TRANSACTION_TYPES = ['transfer', 'withdrawal', 'conversion', 'deposit'] as const;
export type FeeTransactionType = (typeof TRANSACTION_TYPES)[number];

const feesFile = z
  .object({
    schedule: z
      .object(
        Object.fromEntries(
          TRANSACTION_TYPES.map((t) => [
            t,
            z.record(z.string(), feeRule).refine((r) => 'default' in r, 'needs a "default" entry'),
          ]),
        ) as unknown as Record<FeeTransactionType, z.ZodType<Record<string, z.output<typeof feeRule>>>>,
      )
      .strict(),
    agent_commission_share: decimalString,
  })
  .strict();

const partnersFile = z
  .object({
    partners: z.array(
      z
        .object({
          id: z.string().regex(/^[A-Z0-9-]{3,32}$/, 'must be 3-32 upper-case letters, digits or "-"'),
          name: z.string().min(1),
          service: z.string().regex(/^[a-z_]{2,32}$/, 'must be a lower-case service name'),
          country: z.string().min(2),
          currencies: z.array(currencyCode).min(1),
          adapter: z.enum(['sandbox']),
        })
        .strict(),
    ),
    agents: z.array(
      z
        .object({
          id: z.string().regex(/^[A-Z0-9-]{3,32}$/, 'must be 3-32 upper-case letters, digits or "-"'),
          name: z.string().min(1),
          currencies: z.array(currencyCode).min(1),
        })
        .strict(),
    ),
  })
  .strict();

const planLimits = z
  .object({
    max_connections: z.number().int().min(1),
    messages_per_second: z.number().int().min(1),
  })
  .strict();

const marketsFile = z
  .object({
    pairs: z.array(
      z
        .object({
          symbol: z.string().regex(/^[A-Z]{3,5}-[A-Z]{3,5}$/, 'must look like BTC-EUR'),
          base: currencyCode,
          quote: currencyCode,
          price_tick: decimalString,
          amount_step: decimalString,
          min_amount: decimalString,
          max_amount: decimalString,
          max_price: decimalString,
        })
        .strict(),
    ),
    fees: z.object({ maker: decimalString, taker: decimalString }).strict(),
  })
  .strict();

const plansFile = z
  .object({
    plans: z.record(z.string().regex(/^[a-z_]{2,32}$/), planLimits),
    default_plan: z.string(),
    requests_per_minute: z.number().int().min(1),
  })
  .strict();

export interface CurrencyConfig {
  code: string;
  name: string;
  decimals: number;
  /** Largest amount a single operation may move, in minor units. */
  maxAmount: bigint;
}

export interface FeeRuleConfig {
  /** Rate as an integer scaled by 10^6 (0.02 = 20000). */
  rateMicros: bigint;
  fixed: string;
  min: string;
  max: string | null;
}

/** A trading pair: prices in the quote's minor units per whole base unit, amounts in the base's. */
export interface PairConfig {
  symbol: string;
  base: string;
  quote: string;
  priceTick: bigint;
  amountStep: bigint;
  minAmount: bigint;
  maxAmount: bigint;
  maxPrice: bigint;
}

export interface PlanConfig {
  maxConnections: number;
  messagesPerSecond: number;
}

export interface BusinessConfig {
  currencies: ReadonlyMap<string, CurrencyConfig>;
  defaultWallets: readonly string[];
  fees: {
    schedule: Record<FeeTransactionType, Record<string, FeeRuleConfig>>;
    agentCommissionShareMicros: bigint;
  };
  partners: z.output<typeof partnersFile>['partners'];
  agents: z.output<typeof partnersFile>['agents'];
  plans: ReadonlyMap<string, PlanConfig>;
  defaultPlan: string;
  /** Trading pairs such as BTC-EUR, with their order rules in minor units. */
  pairs: readonly PairConfig[];
  /** Maker and taker fees of every pair, parts per million of what each side receives. */
  marketFees: { makerPpm: bigint; takerPpm: bigint };
  requestsPerMinute: number;
}

export class BusinessConfigError extends Error {}

function readJson<T extends z.ZodType>(dir: string, file: string, schema: T): z.output<T> {
  const path = join(dir, file);
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(path, 'utf8'));
  } catch (error) {
    const reason = error instanceof SyntaxError ? `is not valid JSON (${error.message})` : 'cannot be read';
    throw new BusinessConfigError(`${path} ${reason}`);
  }
  const result = schema.safeParse(raw);
  if (!result.success) {
    const issue = result.error.issues[0];
    const where = issue.path.length ? issue.path.join('.') : '(root)';
    throw new BusinessConfigError(`${path}: ${where} ${issue.message}`);
  }
  return result.data;
}

function check(condition: boolean, message: string): void {
  if (!condition) throw new BusinessConfigError(message);
}

function exact(file: string, field: string, value: string, scale: number): bigint {
  try {
    return parseScaled(value, scale);
  } catch (error) {
    if (error instanceof DecimalParseError) throw new BusinessConfigError(`${file}: ${field} ${error.message}`);
    throw error;
  }
}

/** Reads and cross-checks every business configuration file in `dir`. */
export function loadBusinessConfig(dir: string): BusinessConfig {
  const currencyFile = readJson(dir, 'currencies.json', currenciesFile);
  const feeFile = readJson(dir, 'fees.json', feesFile);
  const partnerFile = readJson(dir, 'partners.json', partnersFile);
  const planFile = readJson(dir, 'plans.json', plansFile);
  const marketFile = readJson(dir, 'markets.json', marketsFile);

  const currencies = new Map<string, CurrencyConfig>();
  for (const [i, c] of currencyFile.currencies.entries()) {
    check(!currencies.has(c.code), `currencies.json: currencies.${i}.code ${c.code} is listed twice`);
    const maxAmount = exact('currencies.json', `currencies.${i}.max_amount`, c.max_amount, c.decimals);
    check(maxAmount > 0n, `currencies.json: currencies.${i}.max_amount must be greater than zero`);
    currencies.set(c.code, { code: c.code, name: c.name, decimals: c.decimals, maxAmount });
  }
  for (const code of currencyFile.default_wallets) {
    check(currencies.has(code), `currencies.json: default_wallets names unknown currency ${code}`);
  }

  const schedule = {} as Record<FeeTransactionType, Record<string, FeeRuleConfig>>;
  for (const type of TRANSACTION_TYPES) {
    schedule[type] = {};
    for (const [key, rule] of Object.entries(feeFile.schedule[type])) {
      const at = `schedule.${type}.${key}`;
      check(key === 'default' || currencies.has(key), `fees.json: ${at} names unknown currency ${key}`);
      const rateMicros = exact('fees.json', `${at}.rate`, rule.rate, RATE_SCALE);
      check(rateMicros <= 1_000_000n, `fees.json: ${at}.rate must be at most 1`);
      // Fixed, min and max are amounts of the currency they apply to; for `default` they must fit
      // every currency, so they are checked against the smallest number of decimals.
      const decimals =
        key === 'default'
          ? Math.min(...[...currencies.values()].map((c) => c.decimals))
          : currencies.get(key)!.decimals;
      const min = exact('fees.json', `${at}.min`, rule.min, decimals);
      exact('fees.json', `${at}.fixed`, rule.fixed, decimals);
      if (rule.max !== null) {
        check(exact('fees.json', `${at}.max`, rule.max, decimals) >= min, `fees.json: ${at}.max must not be below min`);
      }
      schedule[type][key] = { rateMicros, fixed: rule.fixed, min: rule.min, max: rule.max };
    }
  }
  const agentCommissionShareMicros = exact(
    'fees.json',
    'agent_commission_share',
    feeFile.agent_commission_share,
    RATE_SCALE,
  );
  check(agentCommissionShareMicros <= 1_000_000n, 'fees.json: agent_commission_share must be at most 1');

  const partnerIds = new Set<string>();
  for (const [i, p] of partnerFile.partners.entries()) {
    check(!partnerIds.has(p.id), `partners.json: partners.${i}.id ${p.id} is listed twice`);
    partnerIds.add(p.id);
    for (const code of p.currencies) {
      check(currencies.has(code), `partners.json: partners.${i}.currencies names unknown currency ${code}`);
    }
  }
  const agentIds = new Set<string>();
  for (const [i, a] of partnerFile.agents.entries()) {
    check(!agentIds.has(a.id), `partners.json: agents.${i}.id ${a.id} is listed twice`);
    agentIds.add(a.id);
    for (const code of a.currencies) {
      check(currencies.has(code), `partners.json: agents.${i}.currencies names unknown currency ${code}`);
    }
  }

  const plans = new Map<string, PlanConfig>(
    Object.entries(planFile.plans).map(([name, p]) => [
      name,
      { maxConnections: p.max_connections, messagesPerSecond: p.messages_per_second },
    ]),
  );
  check(plans.has(planFile.default_plan), `plans.json: default_plan names unknown plan ${planFile.default_plan}`);

  const pairs: PairConfig[] = [];
  for (const [i, pair] of marketFile.pairs.entries()) {
    const at = `pairs.${i}`;
    check(
      pair.symbol === `${pair.base}-${pair.quote}`,
      `markets.json: ${at}.symbol must be ${pair.base}-${pair.quote}`,
    );
    check(!pairs.some((p) => p.symbol === pair.symbol), `markets.json: ${at}.symbol ${pair.symbol} is listed twice`);
    for (const code of [pair.base, pair.quote]) {
      check(currencies.has(code), `markets.json: ${at} names unknown currency ${code}`);
    }
    const base = currencies.get(pair.base)!;
    const quote = currencies.get(pair.quote)!;
    check(base.decimals === 8, `markets.json: ${at}.base must have 8 decimals (amounts are counted in satoshi)`);
    const minor = (field: 'price_tick' | 'max_price', value: string) =>
      exact('markets.json', `${at}.${field}`, value, quote.decimals);
    const units = (field: 'amount_step' | 'min_amount' | 'max_amount', value: string) =>
      exact('markets.json', `${at}.${field}`, value, base.decimals);
    const config: PairConfig = {
      symbol: pair.symbol,
      base: pair.base,
      quote: pair.quote,
      priceTick: minor('price_tick', pair.price_tick),
      amountStep: units('amount_step', pair.amount_step),
      minAmount: units('min_amount', pair.min_amount),
      maxAmount: units('max_amount', pair.max_amount),
      maxPrice: minor('max_price', pair.max_price),
    };
    check(config.priceTick > 0n, `markets.json: ${at}.price_tick must be greater than zero`);
    check(config.amountStep > 0n, `markets.json: ${at}.amount_step must be greater than zero`);
    check(
      config.minAmount > 0n && config.minAmount % config.amountStep === 0n,
      `markets.json: ${at}.min_amount must be a positive multiple of amount_step`,
    );
    check(config.maxAmount >= config.minAmount, `markets.json: ${at}.max_amount must not be below min_amount`);
    check(
      config.maxAmount <= base.maxAmount,
      `markets.json: ${at}.max_amount must not exceed ${pair.base}'s max_amount`,
    );
    check(config.maxPrice >= config.priceTick, `markets.json: ${at}.max_price must not be below price_tick`);
    pairs.push(config);
  }
  const makerPpm = exact('markets.json', 'fees.maker', marketFile.fees.maker, RATE_SCALE);
  const takerPpm = exact('markets.json', 'fees.taker', marketFile.fees.taker, RATE_SCALE);
  check(makerPpm < 1_000_000n && takerPpm < 1_000_000n, 'markets.json: fees must be below 1');

  return {
    currencies,
    defaultWallets: currencyFile.default_wallets,
    fees: { schedule, agentCommissionShareMicros },
    partners: partnerFile.partners,
    agents: partnerFile.agents,
    plans,
    defaultPlan: planFile.default_plan,
    pairs,
    marketFees: { makerPpm, takerPpm },
    requestsPerMinute: planFile.requests_per_minute,
  };
}
