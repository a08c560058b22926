import { MessageBody, SubscribeMessage } from '@nestjs/websockets';
import type { AuthenticatedPrincipal } from '../../core/realtime/realtime.types.js';
import type { RequestResult } from '../../core/realtime/ws-envelope.js';
import { UserGateway, WsPrincipal } from '../../core/realtime/ws-requests.js';
import {
  CancelAllOrdersRequestDto,
  CancelOrderRequestDto,
  GetOrdersRequestDto,
  GetTradesRequestDto,
  PlaceOrderRequestDto,
} from './dto/market-requests.dto.js';
import type { OrderView } from './market.events.js';
import type { OwnTrade } from './market-data.service.js';
import { OrdersService } from './orders.service.js';

@UserGateway()
export class MarketGateway {
  constructor(private readonly service: OrdersService) {}

  @SubscribeMessage('place_order')
  async place(
    @WsPrincipal() user: AuthenticatedPrincipal,
    @MessageBody() body: PlaceOrderRequestDto,
  ): Promise<RequestResult<OrderView>> {
    return { message: 'order placed', data: await this.service.place(user, body) };
  }

  @SubscribeMessage('cancel_order')
  async cancel(
    @WsPrincipal() user: AuthenticatedPrincipal,
    @MessageBody() body: CancelOrderRequestDto,
  ): Promise<RequestResult<OrderView>> {
    return { message: 'order cancelled', data: await this.service.cancel(user.userId, body) };
  }

  @SubscribeMessage('cancel_all_orders')
  async cancelAll(
    @WsPrincipal() user: AuthenticatedPrincipal,
    @MessageBody() body: CancelAllOrdersRequestDto,
  ): Promise<RequestResult<{ orders: OrderView[]; count: number }>> {
    const orders = await this.service.cancelAll(user.userId, body);
    return { message: 'orders cancelled', data: { orders, count: orders.length } };
  }

  @SubscribeMessage('get_orders')
  async orders(
    @WsPrincipal() user: AuthenticatedPrincipal,
    @MessageBody() body: GetOrdersRequestDto,
  ): Promise<RequestResult<{ orders: OrderView[]; total: number; as_of_seq: number }>> {
    return { message: 'orders retrieved', data: await this.service.orders(user.userId, body) };
  }

  @SubscribeMessage('get_trades')
  async trades(
    @WsPrincipal() user: AuthenticatedPrincipal,
    @MessageBody() body: GetTradesRequestDto,
  ): Promise<RequestResult<{ trades: OwnTrade[]; as_of_seq: number }>> {
    return { message: 'trades retrieved', data: await this.service.trades(user.userId, body) };
  }
}
