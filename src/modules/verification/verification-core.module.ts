import { Module } from '@nestjs/common';
import { NotificationsModule } from '../notifications/notifications.module.js';
import { DevMailbox } from './delivery/dev-mailbox.js';
import { NotifierRegistry } from './delivery/notifier-registry.js';
import { OtpDeliveryService } from './otp-delivery.service.js';
import { VerificationKeys } from './verification-keys.js';
import { VerificationLockService } from './verification-lock.service.js';
import { VerificationTokensService } from './verification-tokens.service.js';

/** What the API and the worker share: keys, tokens, the lockout, and OTP delivery. */
@Module({
  imports: [NotificationsModule],
  providers: [
    VerificationKeys,
    VerificationLockService,
    VerificationTokensService,
    DevMailbox,
    NotifierRegistry,
    OtpDeliveryService,
  ],
  exports: [
    VerificationKeys,
    VerificationLockService,
    VerificationTokensService,
    DevMailbox,
    NotifierRegistry,
    OtpDeliveryService,
  ],
})
export class VerificationCoreModule {}
