import { MessageBody, SubscribeMessage } from '@nestjs/websockets';
import type { RequestResult } from '../../core/realtime/ws-envelope.js';
import { UserGateway } from '../../core/realtime/ws-requests.js';
import { CalculateFeeRequestDto } from './dto/calculate-fee-request.dto.js';
import { FeesService, type FeeCalculation } from './fees.service.js';

@UserGateway()
export class FeesGateway {
  constructor(private readonly fees: FeesService) {}

  /** The fee the operation will charge, from the same schedule the operation uses. */
  @SubscribeMessage('calculate_fee')
  calculate(@MessageBody() body: CalculateFeeRequestDto): RequestResult<FeeCalculation> {
    return { message: 'fee calculated', data: this.fees.calculate(body) };
  }
}
