import { Module } from '@nestjs/common';
import { UsersModule } from '../users/users.module.js';
import { DevOutboxController } from './dev-outbox.controller.js';
import { OtpDispatchService } from './otp-dispatch.service.js';
import { OtpService } from './otp.service.js';
import { TotpService } from './totp.service.js';
import { TwoFactorController } from './two-factor.controller.js';
import { VerificationAdminController } from './verification-admin.controller.js';
import { VerificationCoreModule } from './verification-core.module.js';
import { VerificationGateway } from './verification.gateway.js';
import { VerificationService } from './verification.service.js';

/**
 * Verification in the API: OTP and TOTP requests over `/user`, 2FA setup, the development
 * mailbox and the admin view of messages. Other modules import it for
 * VerificationTokensService.consume().
 */
@Module({
  imports: [VerificationCoreModule, UsersModule],
  controllers: [TwoFactorController, DevOutboxController, VerificationAdminController],
  providers: [OtpService, OtpDispatchService, TotpService, VerificationService, VerificationGateway],
  exports: [VerificationCoreModule],
})
export class VerificationModule {}
