import { MessageBody } from '@nestjs/websockets';
import type { AuthenticatedPrincipal } from '../../core/realtime/realtime.types.js';
import type { RequestResult } from '../../core/realtime/ws-envelope.js';
import { UserGateway, UserRequest, WsPrincipal } from '../../core/realtime/ws-requests.js';
import { DepositsService } from './deposits.service.js';
import { DepositRefDto, DepositRequestDto, HistoryRequestDto, WithdrawRequestDto } from './dto/payment-requests.dto.js';
import { PaymentReadsService, type History } from './payment-reads.service.js';
import { PaymentSettlementService } from './payment-settlement.service.js';
import type { DepositCreated, DepositView, WithdrawalCreated } from './payment-views.js';
import { WithdrawalsService } from './withdrawals.service.js';

/** The requests this gateway answers: their bodies and replies (declared in UserRequestMap). */
export interface PaymentsRequests {
  deposit_request: { body: DepositRequestDto; reply: DepositCreated };
  get_deposit_status: { body: DepositRefDto; reply: DepositView };
  cancel_deposit: { body: DepositRefDto; reply: null };
  withdraw_request: { body: WithdrawRequestDto; reply: WithdrawalCreated };
  get_history: { body: HistoryRequestDto; reply: History };
}

declare module '../../core/realtime/user-requests.js' {
  interface UserRequestMap extends PaymentsRequests {}
}

@UserGateway()
export class PaymentsGateway {
  constructor(
    private readonly deposits: DepositsService,
    private readonly withdrawals: WithdrawalsService,
    private readonly settlement: PaymentSettlementService,
    private readonly reads: PaymentReadsService,
  ) {}

  @UserRequest('deposit_request')
  async deposit(
    @WsPrincipal() user: AuthenticatedPrincipal,
    @MessageBody() body: DepositRequestDto,
  ): Promise<RequestResult<DepositCreated>> {
    return { message: 'deposit request created', data: await this.deposits.request(user.userId, body) };
  }

  @UserRequest('get_deposit_status')
  async depositStatus(
    @WsPrincipal() user: AuthenticatedPrincipal,
    @MessageBody() body: DepositRefDto,
  ): Promise<RequestResult<DepositView>> {
    return { message: 'deposit status', data: await this.reads.depositStatus(user.userId, body) };
  }

  @UserRequest('cancel_deposit')
  async cancelDeposit(
    @WsPrincipal() user: AuthenticatedPrincipal,
    @MessageBody() body: DepositRefDto,
  ): Promise<RequestResult<null>> {
    await this.settlement.cancelDeposit(user.userId, body.request_ref);
    return { message: 'deposit cancelled', data: null };
  }

  @UserRequest('withdraw_request')
  async withdraw(
    @WsPrincipal() user: AuthenticatedPrincipal,
    @MessageBody() body: WithdrawRequestDto,
  ): Promise<RequestResult<WithdrawalCreated>> {
    return {
      message: 'withdrawal request created and being processed',
      data: await this.withdrawals.request(user.userId, body),
    };
  }

  @UserRequest('get_history')
  async getHistory(
    @WsPrincipal() user: AuthenticatedPrincipal,
    @MessageBody() body: HistoryRequestDto,
  ): Promise<RequestResult<History>> {
    return { message: 'transaction history', data: await this.reads.history(user.userId, body) };
  }
}
