import { Body, Controller, Get, Post } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiProperty, ApiTags } from '@nestjs/swagger';
import { Allow, IsString, Matches } from 'class-validator';
import { CurrentUser, Roles } from '../../core/auth/auth.decorators.js';
import type { AuthUser } from '../../core/auth/auth.types.js';
import { FxService, toFxRateView, type FxRateView } from './fx.service.js';
import { required } from '../../core/http/dto-validators.js';
import { ApiAnswer, ApiErrors } from '../../core/http/openapi.js';

export class SetFxRateRequestDto {
  @ApiProperty({ example: 'USD' })
  @Matches(/^[A-Z]{3,5}$/, { message: 'base must be a currency code such as USD' })
  @IsString()
  @required()
  base: string;

  @ApiProperty({ example: 'EUR' })
  @Matches(/^[A-Z]{3,5}$/, { message: 'quote must be a currency code such as EUR' })
  @IsString()
  @required()
  quote: string;

  @ApiProperty({ example: '0.925', description: 'quote units per base unit, a decimal string' })
  @Allow()
  @required()
  rate: unknown;
}

@ApiTags('fx')
@ApiBearerAuth()
@Controller()
export class FxController {
  constructor(private readonly fx: FxService) {}

  @Get('fx-rates')
  @ApiOperation({ summary: 'The latest rate of every currency pair' })
  @ApiAnswer(200, '{rates: [{id, base, quote, rate, created_at}]} (rate: a decimal string)')
  async latest(): Promise<{ rates: FxRateView[] }> {
    return { rates: (await this.fx.latest()).map(toFxRateView) };
  }

  @Roles('admin')
  @Post('admin/fx-rates')
  @ApiOperation({ summary: 'Record a new rate for a pair (history is kept; the latest is used)' })
  @ApiAnswer(201, '{id, base, quote, rate, created_at}')
  @ApiErrors('VALIDATION_FAILED', 'FORBIDDEN')
  async set(@CurrentUser() admin: AuthUser, @Body() body: SetFxRateRequestDto): Promise<FxRateView> {
    return toFxRateView(await this.fx.setRate(admin.id, body.base, body.quote, body.rate));
  }
}
