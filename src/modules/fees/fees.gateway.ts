import { MessageBody } from '@nestjs/websockets';
import type { RequestResult } from '../../core/realtime/ws-envelope.js';
import { UserGateway, UserRequest } from '../../core/realtime/ws-requests.js';
import { CalculateFeeRequestDto } from './dto/calculate-fee-request.dto.js';
import { FeesService, type FeeQuoteReply } from './fees.service.js';

export type { FeeQuoteReply } from './fees.service.js';

/** The requests this gateway answers: their bodies and replies (declared in UserRequestMap). */
export interface FeesRequests {
  calculate_fee: { body: CalculateFeeRequestDto; reply: FeeQuoteReply };
}

declare module '../../core/realtime/user-requests.js' {
  interface UserRequestMap extends FeesRequests {}
}

@UserGateway()
export class FeesGateway {
  constructor(private readonly fees: FeesService) {}

  /** The fee the operation will charge, from the same schedule the operation uses. */
  @UserRequest('calculate_fee')
  calculate(@MessageBody() body: CalculateFeeRequestDto): RequestResult<FeeQuoteReply> {
    return { message: 'fee calculated', data: this.fees.calculate(body) };
  }
}
