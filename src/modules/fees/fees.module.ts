import { Module } from '@nestjs/common';
import { FeesGateway } from './fees.gateway.js';
import { FeesService } from './fees.service.js';

@Module({ providers: [FeesService, FeesGateway], exports: [FeesService] })
export class FeesModule {}
