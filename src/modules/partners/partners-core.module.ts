import { Module } from '@nestjs/common';
import { LocalUrls } from './local-urls.js';
import { PartnerAdapters } from './partner-adapters.js';
import { PartnersRepository } from './partners.repository.js';
import { PartnersService } from './partners.service.js';
import { SandboxPartnerAdapter } from './sandbox/sandbox.adapter.js';

/**
 * What the API and the worker share: the partners (seeded at start-up) and the adapters that
 * reach them. The worker's processors import this module; the API imports PartnersModule.
 */
@Module({
  providers: [PartnersRepository, PartnersService, LocalUrls, SandboxPartnerAdapter, PartnerAdapters],
  exports: [PartnersService, PartnerAdapters, LocalUrls],
})
export class PartnersCoreModule {}
