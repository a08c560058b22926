import { MessageBody, SubscribeMessage } from '@nestjs/websockets';
import type { AuthenticatedPrincipal } from '../../core/realtime/realtime.types.js';
import type { RequestResult } from '../../core/realtime/ws-envelope.js';
import { UserGateway, WsPrincipal } from '../../core/realtime/ws-requests.js';
import { AccountReadsService } from './account-reads.service.js';
import type { AccountBalanceView, AccountView, OwnerSummaryView } from './account-views.js';
import { AccountBalanceRequestDto } from './dto/account-requests.dto.js';

@UserGateway()
export class AccountsGateway {
  constructor(private readonly reads: AccountReadsService) {}

  @SubscribeMessage('get_accounts')
  async list(
    @WsPrincipal() user: AuthenticatedPrincipal,
  ): Promise<RequestResult<{ accounts: AccountView[]; count: number; as_of_seq: number }>> {
    return { message: 'accounts retrieved', data: await this.reads.list(user.userId) };
  }

  @SubscribeMessage('get_account_balance')
  async balance(
    @WsPrincipal() user: AuthenticatedPrincipal,
    @MessageBody() body: AccountBalanceRequestDto,
  ): Promise<RequestResult<AccountBalanceView>> {
    return { message: 'balance retrieved', data: await this.reads.balance(user.userId, body.account_number) };
  }

  @SubscribeMessage('get_owner_summary')
  async summary(@WsPrincipal() user: AuthenticatedPrincipal): Promise<RequestResult<OwnerSummaryView>> {
    return { message: 'owner summary', data: await this.reads.ownerSummary(user.userId) };
  }
}
