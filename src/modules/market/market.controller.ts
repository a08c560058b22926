// The public market REST routes (contract section 5): no authentication, budgeted per address.
import { Controller, Get, Param, Query } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import { PublicRateLimited } from '../../core/http/public-rate-limit.guard.js';
import { CandlesQueryDto, DepthQueryDto, TradesQueryDto } from './dto/market-queries.dto.js';
import type { DepthSnapshotPayload, TickPayload } from './market.events.js';
import { MarketData, type Candle, type PublicTrade } from './market-data.service.js';
import { OrderBooks } from './order-books.js';
import { ApiAnswer, ApiErrors } from '../../core/http/openapi.js';

interface PairView {
  symbol: string;
  base: string;
  quote: string;
  price_tick: string;
  amount_step: string;
  min_amount: string;
  max_amount: string;
  max_price: string;
  maker_fee: string;
  taker_fee: string;
}

@ApiTags('market')
@PublicRateLimited()
@Controller('market')
export class MarketController {
  constructor(
    private readonly books: OrderBooks,
    private readonly marketData: MarketData,
  ) {}

  @Get('pairs')
  @ApiOperation({ summary: 'The trading pairs and their order rules' })
  @ApiAnswer(
    200,
    '{pairs: [{symbol, base, quote, price_tick, amount_step, min_amount, max_amount, max_price, maker_fee, taker_fee}]}',
  )
  @ApiErrors('RATE_LIMIT_EXCEEDED')
  pairs(): { pairs: PairView[] } {
    return { pairs: this.marketData.pairViews() };
  }

  @Get(':pair/ticker')
  @ApiOperation({ summary: 'The pair’s last 24 hours: last, bid, ask, high, low, volume, vwap, change' })
  @ApiAnswer(200, '{pair, last, bid, ask, high, low, volume, vwap, change, timestamp}')
  @ApiErrors('UNKNOWN_PAIR', 'RATE_LIMIT_EXCEEDED')
  ticker(@Param('pair') symbol: string): Promise<TickPayload> {
    return this.marketData.publicTicker(this.books.pair(symbol));
  }

  @Get(':pair/depth')
  @ApiOperation({ summary: 'The book by price level, with its checksum and the seq of market-depth:PAIR' })
  @ApiAnswer(200, '{pair, bids: [[price, amount]...], asks: [...], seq, checksum}')
  @ApiErrors('VALIDATION_FAILED', 'UNKNOWN_PAIR', 'RATE_LIMIT_EXCEEDED')
  depth(@Param('pair') symbol: string, @Query() query: DepthQueryDto): Promise<DepthSnapshotPayload> {
    return this.marketData.depth(this.books.pair(symbol), query.levels);
  }

  @Get(':pair/trades')
  @ApiOperation({ summary: 'Recent trades, newest first (page with before_id)' })
  @ApiAnswer(200, "{trades: [{id, pair, price, amount, side, timestamp}]} (timestamp in ms; side: the taker's)")
  @ApiErrors('VALIDATION_FAILED', 'UNKNOWN_PAIR', 'RATE_LIMIT_EXCEEDED')
  async trades(@Param('pair') symbol: string, @Query() query: TradesQueryDto): Promise<{ trades: PublicTrade[] }> {
    return { trades: await this.marketData.trades(this.books.pair(symbol), query.limit ?? 50, query.before_id) };
  }

  @Get(':pair/candles')
  @ApiOperation({ summary: 'OHLCV candles of 1m, 5m, 1h or 1d between from and to (Unix seconds), oldest first' })
  @ApiAnswer(200, '[{time, open, high, low, close, volume}] (at most 1,000)')
  @ApiErrors('VALIDATION_FAILED', 'UNKNOWN_PAIR', 'RATE_LIMIT_EXCEEDED')
  candles(@Param('pair') symbol: string, @Query() query: CandlesQueryDto): Promise<Candle[]> {
    return this.marketData.candles(this.books.pair(symbol), query.interval, query.from, query.to);
  }
}
