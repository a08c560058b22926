import { Module } from '@nestjs/common';
import { PartnersCoreModule } from '../partners-core.module.js';
import { SandboxPartnerController } from './sandbox-partner.controller.js';
import { SandboxPartnerService } from './sandbox-partner.service.js';

/** The sandbox partners' endpoint; the API imports it only when NODE_ENV is not production. */
@Module({
  imports: [PartnersCoreModule],
  controllers: [SandboxPartnerController],
  providers: [SandboxPartnerService],
  exports: [SandboxPartnerService],
})
export class SandboxPartnerModule {}
