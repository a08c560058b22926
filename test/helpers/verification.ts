// Verification tests: a clock the test moves, a Nest context running on it, TOTP codes at any
// time step, and reading codes out of the development mailbox.
import type { INestApplicationContext, ModuleMetadata } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { generate } from 'otplib';
import type { AppConfig } from '../../src/core/config/app-config.js';
import { CoreModule } from '../../src/core/core.module.js';
import { createRootLogger } from '../../src/core/logging/logger.js';
import { Clock } from '../../src/core/time/clock.js';
import { testConfig } from './nest.js';

/** A clock that stands still until the test moves it. */
export class TestClock extends Clock {
  private ms = Date.now();

  now(): Date {
    return new Date(this.ms);
  }

  advance(seconds: number): void {
    this.ms += seconds * 1000;
  }

  /** Moves to `seconds` into the current 30 s TOTP step (always forward). */
  alignToStep(seconds: number): void {
    const into = Math.floor(this.ms / 1000) % 30;
    this.advance((seconds - into + 30) % 30 || 30);
    this.ms -= this.ms % 1000;
  }
}

export async function createClockedContext(
  imports: ModuleMetadata['imports'],
  clock: Clock,
  config: AppConfig = testConfig(),
): Promise<INestApplicationContext> {
  const moduleRef = await Test.createTestingModule({
    imports: [CoreModule.forRoot(config, createRootLogger(config.env.LOG_LEVEL)), ...(imports ?? [])],
  })
    .overrideProvider(Clock)
    .useValue(clock)
    .compile();
  const app = moduleRef.createNestApplication();
  await app.init();
  return app;
}

/** The TOTP code of `secret` at `steps` time steps from `now`. */
export function totpAt(secret: string, now: Date, steps = 0): Promise<string> {
  return generate({ secret, epoch: Math.floor(now.getTime() / 1000) + steps * 30 });
}

export { codeIn, wrongCode } from './mailbox.js';
