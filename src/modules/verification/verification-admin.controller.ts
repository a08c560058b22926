import { Controller, Get, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiTags } from '@nestjs/swagger';
import { Roles } from '../../core/auth/auth.decorators.js';
import { VerificationMessagesQueryDto } from './dto/verification-requests.dto.js';
import { OtpDeliveryService, type VerificationMessageView } from './otp-delivery.service.js';
import { ApiAnswer, ApiErrors } from '../../core/http/openapi.js';

@ApiTags('admin')
@ApiBearerAuth()
@Roles('admin')
@Controller('admin/verification')
export class VerificationAdminController {
  constructor(private readonly delivery: OtpDeliveryService) {}

  @Get('messages')
  @ApiOperation({ summary: 'OTP messages, newest first (status=failed: those that finally failed); never their codes' })
  @ApiAnswer(
    200,
    '{messages: [{id, user_id, channel, recipient, status, attempts, provider, last_error, created_at, sent_at}]}',
  )
  @ApiErrors('VALIDATION_FAILED', 'FORBIDDEN')
  async messages(@Query() query: VerificationMessagesQueryDto): Promise<{ messages: VerificationMessageView[] }> {
    return { messages: await this.delivery.list(query.status) };
  }
}
