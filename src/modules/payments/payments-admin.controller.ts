import { Controller, Get, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiTags } from '@nestjs/swagger';
import { Roles } from '../../core/auth/auth.decorators.js';
import { AdminPaymentsQueryDto } from './dto/payment-requests.dto.js';
import { PaymentReadsService } from './payment-reads.service.js';
import { ApiAnswer, ApiErrors } from '../../core/http/openapi.js';

@ApiTags('admin')
@ApiBearerAuth()
@Roles('admin')
@Controller('admin/payments')
export class PaymentsAdminController {
  constructor(private readonly reads: PaymentReadsService) {}

  @Get()
  @ApiOperation({
    summary: 'Deposits and withdrawals of every user, newest first (status=failed: what failed, and why)',
  })
  @ApiAnswer(200, '{deposits?: [payment + user_id], withdrawals?: [payment + user_id]} (newest 200 of each)')
  @ApiErrors('VALIDATION_FAILED', 'FORBIDDEN')
  list(@Query() query: AdminPaymentsQueryDto) {
    return this.reads.all(query.kind ?? 'all', query.status);
  }
}
