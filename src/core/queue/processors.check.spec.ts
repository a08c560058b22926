import { Processor, WorkerHost } from '@nestjs/bullmq';
import { Injectable } from '@nestjs/common';
import { DiscoveryModule } from '@nestjs/core';
import { Test } from '@nestjs/testing';
import { describe, expect, it } from 'vitest';
import { ProcessorsCheck } from './processors.check.js';
import { QUEUES } from './queues.js';

@Processor(QUEUES.maintenance)
class MaintenanceLike extends WorkerHost {
  process(): Promise<void> {
    return Promise.resolve();
  }
}

@Processor(QUEUES.maintenance)
class MaintenanceTwin extends WorkerHost {
  process(): Promise<void> {
    return Promise.resolve();
  }
}

@Processor(QUEUES.outbox)
class OutboxLike extends WorkerHost {
  process(): Promise<void> {
    return Promise.resolve();
  }
}

@Processor(QUEUES.otp)
class OtpLike extends WorkerHost {
  process(): Promise<void> {
    return Promise.resolve();
  }
}

@Injectable()
class NotAProcessor {}

async function check(providers: (new (...args: never[]) => unknown)[]): Promise<void> {
  const moduleRef = await Test.createTestingModule({
    imports: [DiscoveryModule],
    providers: [ProcessorsCheck, ...providers],
  }).compile();
  moduleRef.get(ProcessorsCheck).onModuleInit();
}

describe('ProcessorsCheck', () => {
  it('passes when every queue has exactly one processor', async () => {
    await expect(check([MaintenanceLike, OutboxLike, OtpLike, NotAProcessor])).resolves.toBeUndefined();
  });

  it('refuses to start when a queue has no processor', async () => {
    await expect(check([OutboxLike, OtpLike, NotAProcessor])).rejects.toThrow(
      'worker refuses to start: no processor for queue(s) maintenance',
    );
  });

  it('refuses to start when a queue has two processors', async () => {
    await expect(check([MaintenanceLike, MaintenanceTwin, OutboxLike, OtpLike])).rejects.toThrow(
      'several processors for queue(s) maintenance',
    );
  });
});
