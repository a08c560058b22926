import { Injectable, type OnModuleInit } from '@nestjs/common';
import { DiscoveryService } from '@nestjs/core';
import { QUEUE_NAMES } from './queues.js';

/** Where @Processor() stores its options (@nestjs/bullmq does not export the constant). */
const PROCESSOR_METADATA = 'bullmq:processor_metadata';

/** Start-up check of a worker: every queue has exactly one processor. */
@Injectable()
export class ProcessorsCheck implements OnModuleInit {
  constructor(private readonly discovery: DiscoveryService) {}

  onModuleInit(): void {
    const handled = this.discovery
      .getProviders()
      .map((wrapper) => wrapper.metatype as unknown)
      .filter((type): type is object => typeof type === 'function')
      .map((type) => Reflect.getMetadata(PROCESSOR_METADATA, type) as { name?: string } | undefined)
      .flatMap((meta) => (meta?.name ? [meta.name] : []));
    const missing = QUEUE_NAMES.filter((name) => !handled.includes(name));
    const doubled = QUEUE_NAMES.filter((name) => handled.filter((h) => h === name).length > 1);
    if (missing.length || doubled.length) {
      throw new Error(
        `worker refuses to start: ${[
          missing.length ? `no processor for queue(s) ${missing.join(', ')}` : '',
          doubled.length ? `several processors for queue(s) ${doubled.join(', ')}` : '',
        ]
          .filter(Boolean)
          .join('; ')}`,
      );
    }
  }
}
