// Requests of the exchange on /user (contract section 5). Amounts and prices are read exactly by
// the service, with the pair's decimals; here only their presence is declared.
import { Allow, IsBoolean, IsIn, IsString, IsUUID, Length, Matches, MaxLength } from 'class-validator';
import { integerIn, offsetField, optional, required } from '../../../core/http/dto-validators.js';

const pairField = () => MaxLength(16, { message: 'pair must be a pair such as BTC-EUR' });
const clientOrderId = () =>
  Matches(/^[A-Za-z0-9_.:-]{1,64}$/, {
    message: 'client_order_id must be 1-64 letters, digits, "_", ".", ":" or "-"',
  });

export class PlaceOrderRequestDto {
  @pairField()
  @IsString()
  @required()
  pair: string;

  @IsIn(['buy', 'sell'], { message: 'side must be buy or sell' })
  @required()
  side: 'buy' | 'sell';

  @IsIn(['limit', 'market'], { message: 'type must be limit or market' })
  @required()
  type: 'limit' | 'market';

  /** BTC, a JSON number or a decimal string. */
  @Allow()
  @required()
  amount: unknown;

  /** In the quote currency; limit orders only. */
  @Allow()
  @optional()
  price?: unknown;

  @IsIn(['gtc', 'ioc', 'fok'], { message: 'time_in_force must be gtc, ioc or fok' })
  @optional()
  time_in_force?: 'gtc' | 'ioc' | 'fok';

  @IsBoolean()
  @optional()
  post_only?: boolean;

  @clientOrderId()
  @IsString()
  @optional()
  client_order_id?: string;

  /** Cancel the order once this session's last socket has been gone 10 s. */
  @IsBoolean()
  @optional()
  cancel_on_disconnect?: boolean;

  @Length(1, 64)
  @IsString()
  @optional()
  idempotency_key?: string;
}

export class CancelOrderRequestDto {
  @IsUUID('all', { message: 'order_id must be an order id' })
  @optional()
  order_id?: string;

  @clientOrderId()
  @IsString()
  @optional()
  client_order_id?: string;
}

export class CancelAllOrdersRequestDto {
  @pairField()
  @IsString()
  @optional()
  pair?: string;
}

export class GetOrdersRequestDto {
  @IsIn(['open', 'closed', 'all'], { message: 'status must be open, closed or all' })
  @optional()
  status?: 'open' | 'closed' | 'all';

  @pairField()
  @IsString()
  @optional()
  pair?: string;

  @integerIn(1, 200)
  @optional()
  limit?: number;

  @offsetField()
  @optional()
  offset?: number;
}

export class GetTradesRequestDto {
  @pairField()
  @IsString()
  @optional()
  pair?: string;

  @integerIn(1, 200)
  @optional()
  limit?: number;

  @offsetField()
  @optional()
  offset?: number;
}
