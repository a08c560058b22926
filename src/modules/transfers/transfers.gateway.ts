import { MessageBody } from '@nestjs/websockets';
import type { Admission } from '../../core/realtime/request-gate.js';
import type { AuthenticatedPrincipal } from '../../core/realtime/realtime.types.js';
import type { RequestResult } from '../../core/realtime/ws-envelope.js';
import {
  StartsWhileCounted,
  UserGateway,
  UserRequest,
  WsAdmission,
  WsPrincipal,
} from '../../core/realtime/ws-requests.js';
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

  // Both change nothing outside their posting, whose COMMIT waits for `admitted`.
  @UserRequest('transfer')
  @StartsWhileCounted()
  async transfer(
    @WsPrincipal() user: AuthenticatedPrincipal,
    @MessageBody() body: TransferRequestDto,
    @WsAdmission() admission?: Admission,
  ): Promise<RequestResult<TransferResult>> {
    return {
      message: 'transfer completed',
      data: await this.transfers.transfer(user.userId, body, admission?.admitted),
    };
  }

  @UserRequest('convert_and_transfer')
  @StartsWhileCounted()
  async convert(
    @WsPrincipal() user: AuthenticatedPrincipal,
    @MessageBody() body: ConvertRequestDto,
    @WsAdmission() admission?: Admission,
  ): Promise<RequestResult<ConversionResult>> {
    return {
      message: 'conversion completed',
      data: await this.transfers.convert(user.userId, body, admission?.admitted),
    };
  }
}
