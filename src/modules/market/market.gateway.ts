import { MessageBody } from '@nestjs/websockets';
import type { AuthenticatedPrincipal } from '../../core/realtime/realtime.types.js';
import type { RequestResult } from '../../core/realtime/ws-envelope.js';
import { UserGateway, UserRequest, WsPrincipal } from '../../core/realtime/ws-requests.js';
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

/** The requests this gateway answers: their bodies and replies (declared in UserRequestMap). */
export interface MarketRequests {
  place_order: { body: PlaceOrderRequestDto; reply: OrderView };
  cancel_order: { body: CancelOrderRequestDto; reply: OrderView };
  cancel_all_orders: { body: CancelAllOrdersRequestDto; reply: { orders: OrderView[]; count: number } };
  get_orders: { body: GetOrdersRequestDto; reply: { orders: OrderView[]; total: number; as_of_seq: number } };
  get_trades: { body: GetTradesRequestDto; reply: { trades: OwnTrade[]; as_of_seq: number } };
}

declare module '../../core/realtime/user-requests.js' {
  interface UserRequestMap extends MarketRequests {}
}

@UserGateway()
export class MarketGateway {
  constructor(private readonly service: OrdersService) {}

  @UserRequest('place_order')
  async place(
    @WsPrincipal() user: AuthenticatedPrincipal,
    @MessageBody() body: PlaceOrderRequestDto,
  ): Promise<RequestResult<OrderView>> {
    return { message: 'order placed', data: await this.service.place(user, body) };
  }

  @UserRequest('cancel_order')
  async cancel(
    @WsPrincipal() user: AuthenticatedPrincipal,
    @MessageBody() body: CancelOrderRequestDto,
  ): Promise<RequestResult<OrderView>> {
    return { message: 'order cancelled', data: await this.service.cancel(user.userId, body) };
  }

  @UserRequest('cancel_all_orders')
  async cancelAll(
    @WsPrincipal() user: AuthenticatedPrincipal,
    @MessageBody() body: CancelAllOrdersRequestDto,
  ): Promise<RequestResult<{ orders: OrderView[]; count: number }>> {
    const orders = await this.service.cancelAll(user.userId, body);
    return { message: 'orders cancelled', data: { orders, count: orders.length } };
  }

  @UserRequest('get_orders')
  async orders(
    @WsPrincipal() user: AuthenticatedPrincipal,
    @MessageBody() body: GetOrdersRequestDto,
  ): Promise<RequestResult<{ orders: OrderView[]; total: number; as_of_seq: number }>> {
    return { message: 'orders retrieved', data: await this.service.orders(user.userId, body) };
  }

  @UserRequest('get_trades')
  async trades(
    @WsPrincipal() user: AuthenticatedPrincipal,
    @MessageBody() body: GetTradesRequestDto,
  ): Promise<RequestResult<{ trades: OwnTrade[]; as_of_seq: number }>> {
    return { message: 'trades retrieved', data: await this.service.trades(user.userId, body) };
  }
}
