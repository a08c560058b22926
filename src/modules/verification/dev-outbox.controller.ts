import { Controller, Get, Query } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import { Public } from '../../core/auth/auth.decorators.js';
import { DevMailbox, type MailboxEntry } from './delivery/dev-mailbox.js';
import { DevOutboxQueryDto } from './dto/verification-requests.dto.js';
import { ApiAnswer, ApiErrors } from '../../core/http/openapi.js';

/** The development mailbox (contract section 6): absent (404) when NODE_ENV=production. */
@ApiTags('development')
@Public()
@Controller('dev')
export class DevOutboxController {
  constructor(private readonly mailbox: DevMailbox) {}

  @Get('outbox')
  @ApiOperation({ summary: 'OTP messages sent to an address (not in production)' })
  @ApiAnswer(200, '{to, messages: [{id, channel, to, subject, text, sent_at}]} (newest first)')
  @ApiErrors('VALIDATION_FAILED', 'NOT_FOUND')
  outbox(@Query() query: DevOutboxQueryDto): Promise<{ to: string; messages: MailboxEntry[] }> {
    return this.mailbox.outbox(query.to);
  }
}
