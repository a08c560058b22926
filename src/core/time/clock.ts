// The time services read. Injected, so tests can move it forward instead of sleeping (codes and
// tokens that expire); everywhere else it is the system clock.
import { Global, Injectable, Module } from '@nestjs/common';

export abstract class Clock {
  abstract now(): Date;
}

@Injectable()
export class SystemClock extends Clock {
  now(): Date {
    return new Date();
  }
}

/** Unix seconds of a date. */
export const unixSeconds = (date: Date): number => Math.floor(date.getTime() / 1000);

@Global()
@Module({ providers: [{ provide: Clock, useClass: SystemClock }], exports: [Clock] })
export class ClockModule {}
