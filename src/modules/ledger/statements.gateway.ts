import { MessageBody, SubscribeMessage } from '@nestjs/websockets';
import type { AuthenticatedPrincipal } from '../../core/realtime/realtime.types.js';
import type { RequestResult } from '../../core/realtime/ws-envelope.js';
import { UserGateway, WsPrincipal } from '../../core/realtime/ws-requests.js';
import {
  AccountStatementRequestDto,
  LedgersRequestDto,
  OwnerStatementRequestDto,
  ReceiptRequestDto,
} from './dto/statement-requests.dto.js';
import { StatementsService } from './statements.service.js';

@UserGateway()
export class StatementsGateway {
  constructor(private readonly statements: StatementsService) {}

  @SubscribeMessage('get_ledgers')
  async ledgers(
    @WsPrincipal() user: AuthenticatedPrincipal,
    @MessageBody() body: LedgersRequestDto,
  ): Promise<RequestResult> {
    const page = await this.statements.ledgers(user.userId, body.account_number, body, body.limit, body.offset);
    return { message: 'ledgers retrieved', data: page };
  }

  @SubscribeMessage('get_account_statement')
  async account(
    @WsPrincipal() user: AuthenticatedPrincipal,
    @MessageBody() body: AccountStatementRequestDto,
  ): Promise<RequestResult> {
    return {
      message: 'account statement',
      data: await this.statements.accountStatement(user.userId, body.account_number, body.from, body.to),
    };
  }

  @SubscribeMessage('get_owner_statement')
  async owner(
    @WsPrincipal() user: AuthenticatedPrincipal,
    @MessageBody() body: OwnerStatementRequestDto,
  ): Promise<RequestResult> {
    return { message: 'owner statement', data: await this.statements.ownerStatement(user.userId, body.from, body.to) };
  }

  @SubscribeMessage('get_transaction_by_receipt')
  async receipt(
    @WsPrincipal() user: AuthenticatedPrincipal,
    @MessageBody() body: ReceiptRequestDto,
  ): Promise<RequestResult> {
    return { message: 'transaction details', data: await this.statements.byReceipt(user.userId, body.receipt_code) };
  }
}
