// Seed 002's REST beside its `/ws` socket (contract section 7): a test push to the caller's own
// `/ws` connections, a health check, and for admins the connections of that endpoint on every
// instance. Served at /api/websocket/*, as seed 002 names them (outside the /api/v1 prefix).
import { Body, Controller, Get, HttpCode, Post } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiProperty, ApiPropertyOptional, ApiTags } from '@nestjs/swagger';
import { IsString, Length, Max, Min } from 'class-validator';
import { CurrentUser, Public, Roles } from '../../auth/auth.decorators.js';
import type { AuthUser } from '../../auth/auth.types.js';
import { finiteNumber, optional, required } from '../../http/dto-validators.js';
import type { ConnectionView } from '../realtime-diagnostics.js';
import { PaymentUpdatesService, type PaymentUpdatesHealth } from './payment-updates.service.js';
import { ApiAnswer, ApiErrors } from '../../http/openapi.js';

/** The routes, for the global prefix to leave alone. */
export const PAYMENT_UPDATES_ROUTES = [
  'api/websocket/test-notification',
  'api/websocket/health',
  'api/websocket/stats',
  'api/websocket/connections',
];

const MAX_AMOUNT = 1e15;

export class TestNotificationDto {
  @ApiProperty({ example: 'test_123' })
  @Length(1, 128)
  @IsString()
  @required()
  PaymentId: string;

  @ApiProperty({ example: 'authorized' })
  @Length(1, 64)
  @IsString()
  @required()
  Status: string;

  @ApiProperty({ example: 100 })
  @Max(MAX_AMOUNT)
  @Min(-MAX_AMOUNT)
  @finiteNumber(8)
  @required()
  Amount: number;

  @ApiPropertyOptional({ example: 'order_456' })
  @Length(1, 128)
  @IsString()
  @optional()
  OrderReferenceId?: string;
}

@ApiTags('websocket')
@Controller('api/websocket')
export class PaymentUpdatesController {
  constructor(private readonly paymentUpdates: PaymentUpdatesService) {}

  @Post('test-notification')
  @HttpCode(200)
  @ApiBearerAuth()
  @ApiOperation({ summary: "Pushes a payment-update frame marked Test to the caller's own /ws connections" })
  @ApiAnswer(200, '{message, delivered} (delivered: how many of your /ws connections got it)')
  @ApiErrors('VALIDATION_FAILED')
  testNotification(
    @CurrentUser() user: AuthUser,
    @Body() body: TestNotificationDto,
  ): Promise<{ message: string; delivered: number }> {
    return this.paymentUpdates.testNotification(user.id, body);
  }

  @Get('health')
  @Public()
  @ApiOperation({ summary: 'Whether this instance takes /ws connections, and how many it holds' })
  @ApiAnswer(200, '{status: "healthy" | "draining", endpoint, connections, timestamp}')
  health(): PaymentUpdatesHealth {
    return this.paymentUpdates.health();
  }

  @Get('stats')
  @Roles('admin')
  @ApiBearerAuth()
  @ApiOperation({ summary: '/ws connection counts, on every instance' })
  @ApiAnswer(200, 'the body of GET /api/v1/ws/stats, for /ws connections only')
  @ApiErrors('FORBIDDEN')
  stats(): Promise<Record<string, unknown>> {
    return this.paymentUpdates.stats();
  }

  @Get('connections')
  @Roles('admin')
  @ApiBearerAuth()
  @ApiOperation({ summary: 'Users connected on /ws, and each connection, on every instance' })
  @ApiAnswer(200, '{user_ids, connections, count}')
  @ApiErrors('FORBIDDEN')
  list(): Promise<{ user_ids: string[]; connections: ConnectionView[]; count: number }> {
    return this.paymentUpdates.connectionsOf();
  }
}
