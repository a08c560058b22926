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
import { StatementsService } from './statements.service.js';

/** What a StatementsService read resolves to: the reply's data, as the service builds it. */
type StatementReply<M extends 'ledgers' | 'accountStatement' | 'ownerStatement' | 'byReceipt'> = Awaited<
  ReturnType<StatementsService[M]>
>;

declare module '../../core/realtime/user-requests.js' {
  interface UserRequestMap {
    get_ledgers: { body: LedgersRequestDto; reply: StatementReply<'ledgers'> };
    get_account_statement: { body: AccountStatementRequestDto; reply: StatementReply<'accountStatement'> };
    get_owner_statement: { body: OwnerStatementRequestDto; reply: StatementReply<'ownerStatement'> };
    get_transaction_by_receipt: { body: ReceiptRequestDto; reply: StatementReply<'byReceipt'> };
  }
}

@UserGateway()
export class StatementsGateway {
  constructor(private readonly statements: StatementsService) {}

  @UserRequest('get_ledgers')
  async ledgers(
    @WsPrincipal() user: AuthenticatedPrincipal,
    @MessageBody() body: LedgersRequestDto,
  ): Promise<RequestResult<StatementReply<'ledgers'>>> {
    const page = await this.statements.ledgers(user.userId, body.account_number, body, body.limit, body.offset);
    return { message: 'ledgers retrieved', data: page };
  }

  @UserRequest('get_account_statement')
  async account(
    @WsPrincipal() user: AuthenticatedPrincipal,
    @MessageBody() body: AccountStatementRequestDto,
  ): Promise<RequestResult<StatementReply<'accountStatement'>>> {
    return {
      message: 'account statement',
      data: await this.statements.accountStatement(user.userId, body.account_number, body.from, body.to),
    };
  }

  @UserRequest('get_owner_statement')
  async owner(
    @WsPrincipal() user: AuthenticatedPrincipal,
    @MessageBody() body: OwnerStatementRequestDto,
  ): Promise<RequestResult<StatementReply<'ownerStatement'>>> {
    return { message: 'owner statement', data: await this.statements.ownerStatement(user.userId, body.from, body.to) };
  }

  @UserRequest('get_transaction_by_receipt')
  async receipt(
    @WsPrincipal() user: AuthenticatedPrincipal,
    @MessageBody() body: ReceiptRequestDto,
  ): Promise<RequestResult<StatementReply<'byReceipt'>>> {
    return { message: 'transaction details', data: await this.statements.byReceipt(user.userId, body.receipt_code) };
  }
}
