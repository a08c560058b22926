import { Body, Controller, HttpCode, Param, Post } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import { Public } from '../../../core/auth/auth.decorators.js';
import { SandboxPartnerRequestDto } from './sandbox-partner.dto.js';
import { SandboxPartnerService } from './sandbox-partner.service.js';
import { ApiAnswer, ApiErrors } from '../../../core/http/openapi.js';

/**
 * The sandbox partners' HTTP endpoint (registered only outside production). It plays the partner:
 * no bearer token, as a partner's API would not know ours.
 */
@ApiTags('development')
@Public()
@Controller('sandbox/partners')
export class SandboxPartnerController {
  constructor(private readonly sandbox: SandboxPartnerService) {}

  @Post(':partnerId/requests')
  @HttpCode(202)
  @ApiOperation({ summary: 'A sandbox partner accepts a deposit or payout and answers later by signed webhook' })
  @ApiAnswer(202, '{partner_reference}; the signed webhook follows after SANDBOX_DELAY_MS')
  @ApiErrors('VALIDATION_FAILED', 'PARTNER_NOT_FOUND', 'UNSUPPORTED_CURRENCY', 'SERVICE_UNAVAILABLE')
  request(
    @Param('partnerId') partnerId: string,
    @Body() body: SandboxPartnerRequestDto,
  ): { partner_reference: string } {
    return this.sandbox.accept(partnerId, body);
  }
}
