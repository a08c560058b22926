// Connection diagnostics across every instance (seed 001): who is connected, each connection
// (socket.io or plain WebSocket, with its endpoint), and counts. Admins only.
import { Controller, Get } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiTags } from '@nestjs/swagger';
import { Roles } from '../auth/auth.decorators.js';
import { RealtimeDiagnostics, type ConnectionView } from './realtime-diagnostics.js';
import { ApiAnswer, ApiErrors } from '../http/openapi.js';

@ApiTags('admin')
@ApiBearerAuth()
@Roles('admin')
@Controller('ws')
export class RealtimeAdminController {
  constructor(private readonly diagnostics: RealtimeDiagnostics) {}

  @Get('connected-users')
  @ApiOperation({ summary: 'Ids of the users with at least one open connection, on any instance' })
  @ApiAnswer(200, '{user_ids, count}')
  @ApiErrors('FORBIDDEN')
  connectedUsers(): Promise<{ user_ids: string[]; count: number }> {
    return this.diagnostics.connectedUsers();
  }

  @Get('connections')
  @ApiOperation({ summary: 'Every open connection, socket.io and plain WebSocket, on any instance' })
  @ApiAnswer(
    200,
    '{connections: [{id, namespace, endpoint, user_id, auth, plan, instance, connected_at, address, transport, channels}], count}',
  )
  @ApiErrors('FORBIDDEN')
  async list(): Promise<{ connections: ConnectionView[]; count: number }> {
    const { connections, count } = await this.diagnostics.connectionList();
    return { connections, count };
  }

  @Get('stats')
  @ApiOperation({ summary: 'Connection counts, on any instance' })
  @ApiAnswer(
    200,
    '{connections, by_namespace: {user, public}, by_endpoint, authenticated, users, instances, by_instance}',
  )
  @ApiErrors('FORBIDDEN')
  stats(): Promise<Record<string, unknown>> {
    return this.diagnostics.stats();
  }
}
