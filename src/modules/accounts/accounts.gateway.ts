import { MessageBody } from '@nestjs/websockets';
import type { AuthenticatedPrincipal } from '../../core/realtime/realtime.types.js';
import type { RequestResult } from '../../core/realtime/ws-envelope.js';
import { UserGateway, UserRequest, WsPrincipal } from '../../core/realtime/ws-requests.js';
import { AccountReadsService } from './account-reads.service.js';
import type { AccountBalanceReply, AccountsReply, OwnerSummaryReply } from './account-views.js';
import { AccountBalanceRequestDto } from './dto/account-requests.dto.js';

export type {
  AccountBalanceReply,
  AccountsReply,
  OwnerSummaryReply,
  WalletBalances,
  WalletView,
} from './account-views.js';

/** The requests this gateway answers: their bodies and replies (declared in UserRequestMap). */
export interface AccountsRequests {
  get_accounts: { body: void; reply: AccountsReply };
  get_account_balance: { body: AccountBalanceRequestDto; reply: AccountBalanceReply };
  get_owner_summary: { body: void; reply: OwnerSummaryReply };
}

declare module '../../core/realtime/user-requests.js' {
  interface UserRequestMap extends AccountsRequests {}
}

@UserGateway()
export class AccountsGateway {
  constructor(private readonly reads: AccountReadsService) {}

  @UserRequest('get_accounts')
  async list(@WsPrincipal() user: AuthenticatedPrincipal): Promise<RequestResult<AccountsReply>> {
    return { message: 'accounts retrieved', data: await this.reads.list(user.userId) };
  }

  @UserRequest('get_account_balance')
  async balance(
    @WsPrincipal() user: AuthenticatedPrincipal,
    @MessageBody() body: AccountBalanceRequestDto,
  ): Promise<RequestResult<AccountBalanceReply>> {
    return { message: 'balance retrieved', data: await this.reads.balance(user.userId, body.account_number) };
  }

  /** Every wallet, and their total in USD at the latest rates (each rounded down to the cent). */
  @UserRequest('get_owner_summary')
  async summary(@WsPrincipal() user: AuthenticatedPrincipal): Promise<RequestResult<OwnerSummaryReply>> {
    return { message: 'owner summary', data: await this.reads.ownerSummary(user.userId) };
  }
}
