import { Body, Controller, HttpCode, Param, Post } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import { Public } from '../../../core/auth/auth.decorators.js';
import { SandboxPartnerRequestDto } from './sandbox-partner.dto.js';
import { SandboxPartnerService } from './sandbox-partner.service.js';

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
  request(
    @Param('partnerId') partnerId: string,
    @Body() body: SandboxPartnerRequestDto,
  ): { partner_reference: string } {
    return this.sandbox.accept(partnerId, body);
  }
}
