// Query strings of the public market REST routes. Numbers arrive as text and are read as decimal
// integers only ("10", not "1e1" or " 10"); anything else is VALIDATION_FAILED naming the field.
import { ApiPropertyOptional } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { IsIn } from 'class-validator';
import { integerIn, optional, required } from '../../../core/http/dto-validators.js';
import { CANDLE_INTERVALS, type CandleInterval } from '../orders.repository.js';

/** "123" → 123; anything that is not plain decimal digits is left as text (and refused as not an integer). */
const decimalInteger = () =>
  Transform(({ value }: { value: unknown }) =>
    typeof value === 'string' && /^-?\d{1,16}$/.test(value) ? Number(value) : value,
  );

export class DepthQueryDto {
  @ApiPropertyOptional({ example: 50, description: 'levels per side, 1-500 (default 50)' })
  @integerIn(1, 500)
  @decimalInteger()
  @optional()
  levels?: number;
}

export class TradesQueryDto {
  @ApiPropertyOptional({ example: 50, description: '1-1000 (default 50)' })
  @integerIn(1, 1000)
  @decimalInteger()
  @optional()
  limit?: number;

  @ApiPropertyOptional({ example: 12345, description: 'only trades older than this trade id' })
  @integerIn(1, Number.MAX_SAFE_INTEGER)
  @decimalInteger()
  @optional()
  before_id?: number;
}

export class CandlesQueryDto {
  @ApiPropertyOptional({ enum: CANDLE_INTERVALS, example: '1m' })
  @IsIn(CANDLE_INTERVALS, { message: `interval must be one of ${CANDLE_INTERVALS.join(', ')}` })
  @required()
  interval: CandleInterval;

  @ApiPropertyOptional({ example: 1733011200, description: 'Unix seconds (default: to minus 100 intervals)' })
  @integerIn(0, 99_999_999_999)
  @decimalInteger()
  @optional()
  from?: number;

  @ApiPropertyOptional({ example: 1733097600, description: 'Unix seconds (default: now)' })
  @integerIn(0, 99_999_999_999)
  @decimalInteger()
  @optional()
  to?: number;
}
