import { Body, Controller, Get, Post } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiTags } from '@nestjs/swagger';
import { CurrentUser, Roles } from '../../core/auth/auth.decorators.js';
import type { AuthUser } from '../../core/auth/auth.types.js';
import { AdjustmentsService } from './adjustments.service.js';
import { AdjustmentRequestDto } from './dto/adjustment-request.dto.js';
import { LedgerCheckService, type LedgerCheckView } from './ledger-check.service.js';
import { ApiAnswer, ApiErrors } from '../../core/http/openapi.js';

@ApiTags('admin')
@ApiBearerAuth()
@Roles('admin')
@Controller('admin')
export class LedgerAdminController {
  constructor(
    private readonly adjustments: AdjustmentsService,
    private readonly ledgerCheck: LedgerCheckService,
  ) {}

  @Post('adjustments')
  @ApiOperation({ summary: 'Credit or debit a user wallet against the adjustments account (audited)' })
  @ApiAnswer(201, '{receipt_code, journal_id}')
  @ApiErrors(
    'VALIDATION_FAILED',
    'NOT_FOUND',
    'ACCOUNT_NOT_FOUND',
    'ACCOUNT_LOCKED',
    'INSUFFICIENT_BALANCE',
    'FORBIDDEN',
  )
  adjust(@CurrentUser() admin: AuthUser, @Body() body: AdjustmentRequestDto) {
    return this.adjustments.adjust(admin.id, body);
  }

  @Get('ledger/check')
  @ApiOperation({ summary: 'Verify every ledger invariant over the whole database' })
  @ApiAnswer(
    200,
    '{balanced, currencies: {<CUR>: {debits, credits}}, accounts_checked, journals_checked, problems: [...]}',
  )
  @ApiErrors('FORBIDDEN')
  check(): Promise<LedgerCheckView> {
    return this.ledgerCheck.check();
  }
}
