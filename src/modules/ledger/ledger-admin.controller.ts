import { Body, Controller, Get, Post } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { ApiBearerAuth, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { DataSource } from 'typeorm';
import { CurrentUser, Roles } from '../../core/auth/auth.decorators.js';
import type { AuthUser } from '../../core/auth/auth.types.js';
import { AppConfig } from '../../core/config/app-config.js';
import { sql } from '../../core/database/sql.js';
import { toMajor } from '../../shared/money.js';
import { AdjustmentsService } from './adjustments.service.js';
import { AdjustmentRequestDto } from './dto/adjustment-request.dto.js';
import { checkLedger } from './ledger-check.js';
import { ApiAnswer, ApiErrors } from '../../core/http/openapi.js';

@ApiTags('admin')
@ApiBearerAuth()
@Roles('admin')
@Controller('admin')
export class LedgerAdminController {
  constructor(
    private readonly adjustments: AdjustmentsService,
    @InjectDataSource() private readonly db: DataSource,
    private readonly config: AppConfig,
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
  async check() {
    const report = await checkLedger(
      async <T>(text: string, params?: unknown[]) => (await sql<T>(this.db, text, params)).rows,
    );
    const decimals = (code: string) => this.config.business.currencies.get(code)?.decimals ?? 0;
    return {
      ...report,
      currencies: Object.fromEntries(
        Object.entries(report.currencies).map(([code, t]) => [
          code,
          { debits: toMajor(BigInt(t.debits), decimals(code)), credits: toMajor(BigInt(t.credits), decimals(code)) },
        ]),
      ),
    };
  }
}
