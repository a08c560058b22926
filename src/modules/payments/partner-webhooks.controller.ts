// POST /api/v1/webhooks/partners/:partnerId: a partner tells us how a deposit or a payout ended.
// The signature is checked over the raw bytes before anything else (a guard: 401, nothing changes,
// not even the body is read); each
// event_id is stored once, in the transaction that applies it, so a repeat (even 20 at once) or a
// late contradicting event changes nothing.
import { Body, Controller, HttpCode, Param, Post, UseGuards } from '@nestjs/common';
import { ApiOperation, ApiSecurity, ApiTags } from '@nestjs/swagger';
import { Public } from '../../core/auth/auth.decorators.js';
import { PartnerWebhookDto } from './dto/partner-webhook.dto.js';
import { PartnerSignatureGuard } from './partner-signature.guard.js';
import { PartnerWebhooksService } from './partner-webhooks.service.js';
import type { WebhookOutcome } from './payments.types.js';
import { ApiAnswer, ApiErrors, PARTNER_SIGNATURE } from '../../core/http/openapi.js';

@ApiTags('webhooks')
@Controller('webhooks/partners')
export class PartnerWebhooksController {
  constructor(private readonly webhooks: PartnerWebhooksService) {}

  @Public()
  @UseGuards(PartnerSignatureGuard)
  @ApiSecurity(PARTNER_SIGNATURE)
  @Post(':partnerId')
  @HttpCode(200)
  @ApiOperation({ summary: 'A signed partner event (X-Signature: t=<unix>,v1=<hex HMAC-SHA256>)' })
  @ApiAnswer(200, '{received: true, outcome: "applied" | "ignored" | "duplicate"}')
  @ApiErrors('UNAUTHORIZED', 'VALIDATION_FAILED', 'TRANSACTION_NOT_FOUND')
  async receive(
    @Param('partnerId') partnerId: string,
    @Body() body: PartnerWebhookDto,
  ): Promise<{ received: true; outcome: WebhookOutcome | 'duplicate' }> {
    return { received: true, outcome: await this.webhooks.receive(partnerId, body) };
  }
}
