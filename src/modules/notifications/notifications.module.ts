import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { AuditModule } from '../audit/audit.module.js';
import { UsersCoreModule } from '../users/users.module.js';
import { NotificationEntity } from './notification.entity.js';
import { NotificationsAdminController } from './notifications-admin.controller.js';
import { NotificationsGateway } from './notifications.gateway.js';
import { NotificationsService } from './notifications.service.js';

@Module({
  imports: [TypeOrmModule.forFeature([NotificationEntity]), AuditModule, UsersCoreModule],
  controllers: [NotificationsAdminController],
  providers: [NotificationsService, NotificationsGateway],
  exports: [NotificationsService],
})
export class NotificationsModule {}
