import { Controller, Get, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiTags } from '@nestjs/swagger';
import { Roles } from '../../core/auth/auth.decorators.js';
import { DepositsService } from './deposits.service.js';
import { AdminPaymentsQueryDto } from './dto/payment-requests.dto.js';
import { WithdrawalsService } from './withdrawals.service.js';

@ApiTags('admin')
@ApiBearerAuth()
@Roles('admin')
@Controller('admin/payments')
export class PaymentsAdminController {
  constructor(
    private readonly deposits: DepositsService,
    private readonly withdrawals: WithdrawalsService,
  ) {}

  @Get()
  @ApiOperation({
    summary: 'Deposits and withdrawals of every user, newest first (status=failed: what failed, and why)',
  })
  async list(@Query() query: AdminPaymentsQueryDto) {
    const kind = query.kind ?? 'all';
    return {
      ...(kind !== 'withdrawals' ? { deposits: await this.deposits.listAll(query.status) } : {}),
      ...(kind !== 'deposits' ? { withdrawals: await this.withdrawals.listAll(query.status) } : {}),
    };
  }
}
