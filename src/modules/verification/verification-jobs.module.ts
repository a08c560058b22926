import { Module } from '@nestjs/common';
import { OtpDeliveryProcessor } from './otp-delivery.processor.js';
import { VerificationCoreModule } from './verification-core.module.js';

/** Verification in the worker: the `notify.otp` processor. */
@Module({ imports: [VerificationCoreModule], providers: [OtpDeliveryProcessor] })
export class VerificationJobsModule {}
