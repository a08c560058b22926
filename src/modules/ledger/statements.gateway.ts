import { MessageBody } from '@nestjs/websockets';
import type { AuthenticatedPrincipal } from '../../core/realtime/realtime.types.js';
import type { RequestResult } from '../../core/realtime/ws-envelope.js';
import { UserGateway, UserRequest, WsPrincipal } from '../../core/realtime/ws-requests.js';
import {
  AccountStatementRequestDto,
  LedgersRequestDto,
  OwnerStatementRequestDto,
  ReceiptRequestDto,
} from './dto/statement-requests.dto.js';
import {
  StatementsService,
  type LedgersPage,
  type OwnerStatementView,
  type ReceiptView,
  type StatementView,
} from './statements.service.js';

/** The requests this gateway answers: their bodies and replies (declared in UserRequestMap). */
export interface StatementsRequests {
  get_ledgers: { body: LedgersRequestDto; reply: LedgersPage };
  get_account_statement: { body: AccountStatementRequestDto; reply: StatementView };
  get_owner_statement: { body: OwnerStatementRequestDto; reply: OwnerStatementView };
  get_transaction_by_receipt: { body: ReceiptRequestDto; reply: ReceiptView };
}

declare module '../../core/realtime/user-requests.js' {
  interface UserRequestMap extends StatementsRequests {}
}

@UserGateway()
export class StatementsGateway {
  constructor(private readonly statements: StatementsService) {}

  @UserRequest('get_ledgers')
  async ledgers(
    @WsPrincipal() user: AuthenticatedPrincipal,
    @MessageBody() body: LedgersRequestDto,
  ): Promise<RequestResult<LedgersPage>> {
    const page = await this.statements.ledgers(user.userId, body.account_number, body, body.limit, body.offset);
    return { message: 'ledgers retrieved', data: page };
  }

  @UserRequest('get_account_statement')
  async account(
    @WsPrincipal() user: AuthenticatedPrincipal,
    @MessageBody() body: AccountStatementRequestDto,
  ): Promise<RequestResult<StatementView>> {
    return {
      message: 'account statement',
      data: await this.statements.accountStatement(user.userId, body.account_number, body.from, body.to),
    };
  }

  @UserRequest('get_owner_statement')
  async owner(
    @WsPrincipal() user: AuthenticatedPrincipal,
    @MessageBody() body: OwnerStatementRequestDto,
  ): Promise<RequestResult<OwnerStatementView>> {
    return { message: 'owner statement', data: await this.statements.ownerStatement(user.userId, body.from, body.to) };
  }

  @UserRequest('get_transaction_by_receipt')
  async receipt(
    @WsPrincipal() user: AuthenticatedPrincipal,
    @MessageBody() body: ReceiptRequestDto,
  ): Promise<RequestResult<ReceiptView>> {
    return { message: 'transaction details', data: await this.statements.byReceipt(user.userId, body.receipt_code) };
  }
}
