import { MessageBody } from '@nestjs/websockets';
import type { AuthenticatedPrincipal } from '../../core/realtime/realtime.types.js';
import type { RequestResult } from '../../core/realtime/ws-envelope.js';
import { UserGateway, UserRequest, WsPrincipal } from '../../core/realtime/ws-requests.js';
import { ConvertRequestDto, TransferRequestDto } from './dto/transfer-requests.dto.js';
import { TransfersService, type ConversionResult, type TransferResult } from './transfers.service.js';

/** The requests this gateway answers: their bodies and replies (declared in UserRequestMap). */
export interface TransfersRequests {
  transfer: { body: TransferRequestDto; reply: TransferResult };
  convert_and_transfer: { body: ConvertRequestDto; reply: ConversionResult };
}

declare module '../../core/realtime/user-requests.js' {
  interface UserRequestMap extends TransfersRequests {}
}

@UserGateway()
export class TransfersGateway {
  constructor(private readonly transfers: TransfersService) {}

  @UserRequest('transfer')
  async transfer(
    @WsPrincipal() user: AuthenticatedPrincipal,
    @MessageBody() body: TransferRequestDto,
  ): Promise<RequestResult<TransferResult>> {
    return { message: 'transfer completed', data: await this.transfers.transfer(user.userId, body) };
  }

  @UserRequest('convert_and_transfer')
  async convert(
    @WsPrincipal() user: AuthenticatedPrincipal,
    @MessageBody() body: ConvertRequestDto,
  ): Promise<RequestResult<ConversionResult>> {
    return { message: 'conversion completed', data: await this.transfers.convert(user.userId, body) };
  }
}
