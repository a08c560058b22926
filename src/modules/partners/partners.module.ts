import { Module } from '@nestjs/common';
import { PartnersCoreModule } from './partners-core.module.js';
import { PartnersGateway } from './partners.gateway.js';

/** Partners in the API: get_partners on `/user`, and PartnersService / PartnerAdapters for other modules. */
@Module({
  imports: [PartnersCoreModule],
  providers: [PartnersGateway],
  exports: [PartnersCoreModule],
})
export class PartnersModule {}
