import { copyFileSync, mkdtempSync, readFileSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type BusinessConfig, BusinessConfigError, loadBusinessConfig } from './business-config.js';

const CONFIG_DIR = join(process.cwd(), 'config');
const FILES = ['currencies.json', 'fees.json', 'partners.json', 'plans.json', 'markets.json'] as const;
type ConfigFile = (typeof FILES)[number];

// Loose shapes of the files, enough to mutate them in tests.
interface CurrenciesJson {
  currencies: Array<Record<string, unknown>>;
  default_wallets: string[];
}
interface FeesJson {
  schedule: Record<string, Record<string, Record<string, unknown>>>;
  agent_commission_share: string;
}
interface PartnersJson {
  partners: Array<Record<string, unknown> & { id: string; currencies: string[] }>;
  agents: Array<Record<string, unknown> & { currencies: string[] }>;
}
interface PlansJson {
  plans: Record<string, Record<string, unknown>>;
  default_plan: string;
  requests_per_minute: number;
}

const tempDirs: string[] = [];

afterEach(() => {
  for (const dir of tempDirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

/** A fresh copy of the real configuration directory. */
function copyConfig(): string {
  const dir = mkdtempSync(join(tmpdir(), 'cashier-config-'));
  tempDirs.push(dir);
  for (const file of FILES) copyFileSync(join(CONFIG_DIR, file), join(dir, file));
  return dir;
}

function edit<T>(dir: string, file: ConfigFile, change: (json: T) => void): void {
  const path = join(dir, file);
  const json = JSON.parse(readFileSync(path, 'utf8')) as T;
  change(json);
  writeFileSync(path, JSON.stringify(json));
}

function loadError(dir: string): BusinessConfigError {
  try {
    loadBusinessConfig(dir);
  } catch (error) {
    if (error instanceof BusinessConfigError) return error;
    throw error;
  }
  throw new Error('expected loadBusinessConfig to throw a BusinessConfigError');
}

describe('loadBusinessConfig with the shipped config/ directory', () => {
  let config: BusinessConfig;

  beforeAll(() => {
    config = loadBusinessConfig(CONFIG_DIR);
  });

  it('reads the currencies with exact maximum amounts in minor units', () => {
    expect(config.currencies.get('USD')).toEqual({
      code: 'USD',
      name: 'US Dollar',
      decimals: 2,
      maxAmount: 1_000_000_000n,
    });
    expect(config.currencies.get('BTC')).toMatchObject({ decimals: 8, maxAmount: 100_000_000_000n });
    expect(typeof config.currencies.get('EUR')?.maxAmount).toBe('bigint');
    expect([...config.currencies.keys()]).toEqual(['USD', 'EUR', 'KES', 'BTC']);
    expect(config.defaultWallets).toEqual(['USD', 'EUR']);
  });

  it('reads the fee schedule with rates in micros', () => {
    expect(config.fees.schedule.transfer.default).toEqual({ rateMicros: 20000n, fixed: '0', min: '0', max: null });
    expect(config.fees.schedule.withdrawal.default.rateMicros).toBe(20000n);
    expect(config.fees.schedule.conversion.default.rateMicros).toBe(10000n);
    expect(config.fees.schedule.deposit.default.rateMicros).toBe(10000n);
    expect(config.fees.agentCommissionShareMicros).toBe(750000n);
  });

  it('reads partners and agents', () => {
    expect(config.partners.map((p) => p.id)).toEqual(['PTN-MPESA', 'PTN-PAYPAL', 'PTN-BANK', 'PTN-CRYPTO']);
    expect(config.partners[0]).toMatchObject({ service: 'mpesa', currencies: ['KES', 'USD'], adapter: 'sandbox' });
    expect(config.agents).toEqual([{ id: 'AGT-123', name: "John's Agent Shop", currencies: ['USD', 'KES'] }]);
  });

  it('reads the plans and the request limit', () => {
    expect(config.plans.get('standard')).toEqual({ maxConnections: 5, messagesPerSecond: 50 });
    expect(config.plans.get('premium')).toEqual({ maxConnections: 20, messagesPerSecond: 200 });
    expect(config.defaultPlan).toBe('standard');
    expect(config.requestsPerMinute).toBe(100);
  });
});

describe('loadBusinessConfig with a broken file', () => {
  it('loads an unmodified copy (the baseline of the cases below)', () => {
    expect(loadBusinessConfig(copyConfig()).defaultPlan).toBe('standard');
  });

  it('refuses invalid JSON, naming the file', () => {
    const dir = copyConfig();
    writeFileSync(join(dir, 'fees.json'), '{ "schedule": ');
    const error = loadError(dir);
    expect(error.message).toContain(join(dir, 'fees.json'));
    expect(error.message).toContain('is not valid JSON');
  });

  it('refuses a missing file, naming it', () => {
    const dir = copyConfig();
    unlinkSync(join(dir, 'plans.json'));
    const error = loadError(dir);
    expect(error.message).toContain(join(dir, 'plans.json'));
    expect(error.message).toContain('cannot be read');
  });

  it('refuses an unknown key (the schemas are strict)', () => {
    const dir = copyConfig();
    edit<CurrenciesJson>(dir, 'currencies.json', (json) => {
      json.currencies[0].symbol = '$';
    });
    const error = loadError(dir);
    expect(error.message).toContain('currencies.json');
    expect(error.message).toContain('currencies.0');
    expect(error.message).toContain('symbol');
  });

  it('refuses an unknown top-level key', () => {
    const dir = copyConfig();
    edit<PlansJson & { extra?: boolean }>(dir, 'plans.json', (json) => {
      json.extra = true;
    });
    const error = loadError(dir);
    expect(error.message).toContain('plans.json');
    expect(error.message).toContain('extra');
  });

  it('refuses negative decimals', () => {
    const dir = copyConfig();
    edit<CurrenciesJson>(dir, 'currencies.json', (json) => {
      json.currencies[1].decimals = -1;
    });
    const error = loadError(dir);
    expect(error.message).toContain('currencies.json');
    expect(error.message).toContain('currencies.1.decimals');
  });

  it('refuses a max_amount more precise than the currency', () => {
    const dir = copyConfig();
    edit<CurrenciesJson>(dir, 'currencies.json', (json) => {
      json.currencies[0].max_amount = '1.001';
    });
    expect(loadError(dir).message).toBe('currencies.json: currencies.0.max_amount must have at most 2 decimal places');
  });

  it('refuses a zero max_amount', () => {
    const dir = copyConfig();
    edit<CurrenciesJson>(dir, 'currencies.json', (json) => {
      json.currencies[0].max_amount = '0';
    });
    expect(loadError(dir).message).toBe('currencies.json: currencies.0.max_amount must be greater than zero');
  });

  it('refuses a currency listed twice', () => {
    const dir = copyConfig();
    edit<CurrenciesJson>(dir, 'currencies.json', (json) => {
      json.currencies.push({ ...json.currencies[0] });
    });
    expect(loadError(dir).message).toBe('currencies.json: currencies.4.code USD is listed twice');
  });

  it('refuses default_wallets naming an unknown currency', () => {
    const dir = copyConfig();
    edit<CurrenciesJson>(dir, 'currencies.json', (json) => {
      json.default_wallets.push('XYZ');
    });
    expect(loadError(dir).message).toBe('currencies.json: default_wallets names unknown currency XYZ');
  });

  it('refuses a fee rate above 1', () => {
    const dir = copyConfig();
    edit<FeesJson>(dir, 'fees.json', (json) => {
      json.schedule.transfer.default.rate = '1.5';
    });
    expect(loadError(dir).message).toBe('fees.json: schedule.transfer.default.rate must be at most 1');
  });

  it('accepts a fee rate of exactly 1', () => {
    const dir = copyConfig();
    edit<FeesJson>(dir, 'fees.json', (json) => {
      json.schedule.transfer.default.rate = '1';
    });
    expect(loadBusinessConfig(dir).fees.schedule.transfer.default.rateMicros).toBe(1_000_000n);
  });

  it('refuses a fee schedule without a "default" entry', () => {
    const dir = copyConfig();
    edit<FeesJson>(dir, 'fees.json', (json) => {
      json.schedule.withdrawal = { USD: json.schedule.withdrawal.default };
    });
    const error = loadError(dir);
    expect(error.message).toContain('fees.json');
    expect(error.message).toContain('schedule.withdrawal');
    expect(error.message).toContain('default');
  });

  it('refuses a per-currency fee naming an unknown currency', () => {
    const dir = copyConfig();
    edit<FeesJson>(dir, 'fees.json', (json) => {
      json.schedule.transfer.XYZ = { rate: '0.01' };
    });
    expect(loadError(dir).message).toBe('fees.json: schedule.transfer.XYZ names unknown currency XYZ');
  });

  it('accepts a per-currency fee for a known currency, with defaults for the omitted fields', () => {
    const dir = copyConfig();
    edit<FeesJson>(dir, 'fees.json', (json) => {
      json.schedule.withdrawal.BTC = { rate: '0.005', fixed: '0.00001' };
    });
    expect(loadBusinessConfig(dir).fees.schedule.withdrawal.BTC).toEqual({
      rateMicros: 5000n,
      fixed: '0.00001',
      min: '0',
      max: null,
    });
  });

  it('refuses a fee max below its min', () => {
    const dir = copyConfig();
    edit<FeesJson>(dir, 'fees.json', (json) => {
      json.schedule.deposit.default.min = '5';
      json.schedule.deposit.default.max = '1';
    });
    expect(loadError(dir).message).toBe('fees.json: schedule.deposit.default.max must not be below min');
  });

  it('refuses a fee amount more precise than the currency it applies to', () => {
    const dir = copyConfig();
    edit<FeesJson>(dir, 'fees.json', (json) => {
      json.schedule.transfer.USD = { rate: '0.01', fixed: '0.001' };
    });
    expect(loadError(dir).message).toBe('fees.json: schedule.transfer.USD.fixed must have at most 2 decimal places');
  });

  it('refuses an agent commission share above 1', () => {
    const dir = copyConfig();
    edit<FeesJson>(dir, 'fees.json', (json) => {
      json.agent_commission_share = '1.01';
    });
    expect(loadError(dir).message).toBe('fees.json: agent_commission_share must be at most 1');
  });

  it('refuses a partner currency that is not configured', () => {
    const dir = copyConfig();
    edit<PartnersJson>(dir, 'partners.json', (json) => {
      json.partners[2].currencies.push('XYZ');
    });
    expect(loadError(dir).message).toBe('partners.json: partners.2.currencies names unknown currency XYZ');
  });

  it('refuses an agent currency that is not configured', () => {
    const dir = copyConfig();
    edit<PartnersJson>(dir, 'partners.json', (json) => {
      json.agents[0].currencies = ['XYZ'];
    });
    expect(loadError(dir).message).toBe('partners.json: agents.0.currencies names unknown currency XYZ');
  });

  it('refuses a duplicate agent id', () => {
    const dir = copyConfig();
    edit<PartnersJson>(dir, 'partners.json', (json) => {
      json.agents.push({ ...json.agents[0] });
    });
    expect(loadError(dir).message).toBe('partners.json: agents.1.id AGT-123 is listed twice');
  });

  it('refuses a duplicate partner id', () => {
    const dir = copyConfig();
    edit<PartnersJson>(dir, 'partners.json', (json) => {
      json.partners[3].id = json.partners[0].id;
    });
    expect(loadError(dir).message).toBe('partners.json: partners.3.id PTN-MPESA is listed twice');
  });

  it('refuses an unknown partner adapter', () => {
    const dir = copyConfig();
    edit<PartnersJson>(dir, 'partners.json', (json) => {
      json.partners[0].adapter = 'live';
    });
    const error = loadError(dir);
    expect(error.message).toContain('partners.json');
    expect(error.message).toContain('partners.0.adapter');
  });

  it('refuses a default_plan naming an unknown plan', () => {
    const dir = copyConfig();
    edit<PlansJson>(dir, 'plans.json', (json) => {
      json.default_plan = 'gold';
    });
    expect(loadError(dir).message).toBe('plans.json: default_plan names unknown plan gold');
  });

  it('refuses a plan limit below 1', () => {
    const dir = copyConfig();
    edit<PlansJson>(dir, 'plans.json', (json) => {
      json.plans.premium.max_connections = 0;
    });
    const error = loadError(dir);
    expect(error.message).toContain('plans.json');
    expect(error.message).toContain('plans.premium.max_connections');
  });
});

describe('markets.json', () => {
  it('reads the trading pairs', () => {
    expect(loadBusinessConfig(join(process.cwd(), 'config')).pairs.map((p) => p.symbol)).toEqual([
      'BTC-EUR',
      'BTC-USD',
    ]);
  });

  it('refuses a pair whose symbol does not match its currencies', () => {
    const dir = copyConfig();
    edit<{ pairs: { symbol: string }[] }>(dir, 'markets.json', (json) => {
      json.pairs[0].symbol = 'BTC-USD';
    });
    expect(loadError(dir).message).toBe('markets.json: pairs.0.symbol must be BTC-EUR');
  });
});
