import { Processor, WorkerHost } from '@nestjs/bullmq';
import { Injectable } from '@nestjs/common';
import { DiscoveryModule } from '@nestjs/core';
import { Test } from '@nestjs/testing';
import { describe, expect, it } from 'vitest';
import { ProcessorsCheck } from './processors.check.js';
import { QUEUE_NAMES, QUEUES, type QueueName } from './queues.js';

type Provider = new (...args: never[]) => unknown;

/** A processor class for `queue` (a new class each call, so two of them are two providers). */
function processorOf(queue: QueueName): Provider {
  @Processor(queue)
  class Like extends WorkerHost {
    process(): Promise<void> {
      return Promise.resolve();
    }
  }
  Object.defineProperty(Like, 'name', { value: `${queue}Processor` });
  return Like;
}

@Injectable()
class NotAProcessor {}

async function check(providers: Provider[]): Promise<void> {
  const moduleRef = await Test.createTestingModule({
    imports: [DiscoveryModule],
    providers: [ProcessorsCheck, ...providers],
  }).compile();
  moduleRef.get(ProcessorsCheck).onModuleInit();
}

const allBut = (queue: QueueName) => QUEUE_NAMES.filter((name) => name !== queue).map(processorOf);

describe('ProcessorsCheck', () => {
  it('passes when every queue has exactly one processor', async () => {
    await expect(check([...QUEUE_NAMES.map(processorOf), NotAProcessor])).resolves.toBeUndefined();
  });

  it('refuses to start when a queue has no processor', async () => {
    await expect(check([...allBut(QUEUES.maintenance), NotAProcessor])).rejects.toThrow(
      'worker refuses to start: no processor for queue(s) maintenance',
    );
  });

  it('refuses to start when a queue has two processors', async () => {
    const twins = [processorOf(QUEUES.maintenance), processorOf(QUEUES.maintenance)];
    await expect(check([...twins, ...allBut(QUEUES.maintenance)])).rejects.toThrow(
      'several processors for queue(s) maintenance',
    );
  });
});
