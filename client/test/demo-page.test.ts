// The demo page served by the built service at `/`, driven in headless Chromium as two people
// would: both sign up, one deposits through a sandbox partner and sends money to the other, whose
// page shows the new balance without a reload. Screenshots go to test-artifacts/ (gitignored).
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { isolatedRedisPrefix, spawnApp, testEnv, type AppProcess } from '../../test/helpers/app-process.js';
import { PASSWORD, uniqueEmail } from '../../test/helpers/factories.js';

const ARTIFACTS = join(process.cwd(), 'test-artifacts');
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

let app: AppProcess;
let browser: Browser;

beforeAll(async () => {
  mkdirSync(ARTIFACTS, { recursive: true });
  [app, browser] = await Promise.all([
    spawnApp({ env: testEnv({ REDIS_PREFIX: isolatedRedisPrefix(), SANDBOX_DELAY_MS: '200' }) }),
    chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] }),
  ]);
});

afterAll(async () => {
  await browser?.close();
  await app?.stop();
});

async function signUp(page: Page, email: string): Promise<string> {
  await page.goto(app.url);
  await page.fill('input[name=email]', email);
  await page.fill('input[name=password]', PASSWORD);
  await page.click('[data-testid=signup]');
  await expect.poll(() => page.textContent('[data-testid=link]'), { timeout: 10_000 }).toBe('live');
  await expect.poll(() => page.textContent('[data-testid=balance-USD]')).toBe('0.00');
  return (await page.textContent('[data-testid=user-id]'))!;
}

const shot = (page: Page, name: string) => page.screenshot({ path: join(ARTIFACTS, `${name}.png`), fullPage: true });

it('serves the page at / outside the API prefix', async () => {
  const response = await fetch(`${app.url}/`);
  expect(response.status).toBe(200);
  expect(await response.text()).toContain('<script type="module" src="/app.js"></script>');
  expect((await fetch(`${app.url}/app.js`)).headers.get('content-type')).toMatch(/javascript/);
  expect((await fetch(`${app.url}/api/v1/health`)).status).toBe(200);
});

it('two users: deposit, transfer, and the receiver’s balance changes live', async () => {
  const [alice, bob] = [await browser.newPage(), await browser.newPage()];
  const errors: string[] = [];
  for (const page of [alice, bob]) page.on('pageerror', (error) => errors.push(error.message));
  await signUp(alice, uniqueEmail('demo-alice'));
  const bobId = await signUp(bob, uniqueEmail('demo-bob'));

  // Alice deposits 100 USD through the PayPal sandbox and watches it complete.
  await alice.fill('[data-testid=deposit-amount]', '100');
  await alice.selectOption('[data-testid=deposit-route]', 'USD paypal');
  await alice.click('[data-testid=deposit-send]');
  await expect
    .poll(() => alice.textContent('[data-testid=deposit-status]'), { timeout: 15_000 })
    .toContain('completed');
  await expect.poll(() => alice.textContent('[data-testid=balance-USD]')).not.toBe('0.00');
  // What the deposit announced while in flight (its pending credit) is gone once it is credited.
  await expect.poll(() => alice.textContent('[data-testid=incoming-USD]')).toBe('0.00');
  const aliceAfterDeposit = Number(await alice.textContent('[data-testid=balance-USD]'));
  await shot(alice, 'demo-alice-deposited');

  // Bob's page is marked, so a reload would show.
  await bob.evaluate(() => ((globalThis as unknown as { marker: number }).marker = 42));
  await alice.fill('[data-testid=transfer-to]', bobId);
  await alice.fill('[data-testid=transfer-amount]', '25');
  await alice.selectOption('[data-testid=transfer-currency]', 'USD');
  await alice.click('[data-testid=transfer-send]');
  await expect.poll(() => alice.textContent('[data-testid=transfer-result]')).toMatch(/^Sent 25 USD/);

  await expect.poll(() => bob.textContent('[data-testid=balance-USD]'), { timeout: 10_000 }).toBe('25.00');
  expect(await bob.evaluate(() => (globalThis as unknown as { marker?: number }).marker)).toBe(42);
  await expect
    .poll(async () => Number(await alice.textContent('[data-testid=balance-USD]')))
    .toBeLessThanOrEqual(aliceAfterDeposit - 25);
  await shot(alice, 'demo-alice-sent');
  await shot(bob, 'demo-bob-received');
  expect(errors).toEqual([]);
});

it('places and cancels an order, the book updating on another page', async () => {
  const [alice, bob] = [await browser.newPage(), await browser.newPage()];
  await signUp(alice, uniqueEmail('demo-trader'));
  await bob.goto(app.url);
  await alice.fill('[data-testid=deposit-amount]', '0.5');
  await alice.selectOption('[data-testid=deposit-route]', 'BTC crypto');
  await alice.click('[data-testid=deposit-send]');
  await expect.poll(() => alice.textContent('[data-testid=balance-BTC]'), { timeout: 15_000 }).toMatch(/^0\.4/);

  await alice.selectOption('[data-testid=order-side]', 'sell');
  await alice.fill('[data-testid=order-amount]', '0.1');
  await alice.fill('[data-testid=order-price]', '25000.50');
  await alice.click('[data-testid=order-place]');
  await expect.poll(() => alice.textContent('[data-testid=orders]')).toContain('sell 0.10000000 BTC @ 25000.50');
  // Another visitor's book shows the level, its copy checked against every update's checksum.
  await expect.poll(() => bob.textContent('[data-testid=asks]')).toContain('25000.50');
  await expect
    .poll(() => bob.textContent('[data-testid=book-status]'))
    .toMatch(/[1-9]\d* checksums verified · 0 resyncs/);
  await shot(bob, 'demo-market-order-placed');

  await alice.click('[data-testid=orders] button');
  await expect.poll(() => alice.textContent('[data-testid=orders]')).toBe('');
  await expect.poll(() => bob.textContent('[data-testid=asks]')).not.toContain('25000.50');
  await shot(alice, 'demo-market-order-cancelled');
});
