import { Module } from '@nestjs/common';
import { AuditModule } from '../audit/audit.module.js';
import { FxController } from './fx.controller.js';
import { FxService } from './fx.service.js';

@Module({ imports: [AuditModule], controllers: [FxController], providers: [FxService], exports: [FxService] })
export class FxModule {}
