// Connection diagnostics across every instance (seed 001, 002): who is connected, each socket,
// and counts. Admins only.
import { Controller, Get } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { RemoteSocket } from 'socket.io';
import { Roles } from '../auth/auth.decorators.js';
import { RealtimeConnections } from './realtime-connections.service.js';
import { isAuthenticated, type SocketData } from './realtime.types.js';

type AnySocket = RemoteSocket<Record<string, never>, SocketData>;

interface ConnectionView {
  id: string;
  namespace: string;
  user_id: string | null;
  auth: 'token' | 'api_key' | 'none';
  plan: string | null;
  instance: string;
  connected_at: string;
  address: string;
  transport: string;
  channels: string[];
}

const view = (namespace: string, socket: AnySocket): ConnectionView => {
  const principal = socket.data.principal;
  return {
    id: socket.id,
    namespace,
    user_id: isAuthenticated(principal) ? principal.userId : null,
    auth: principal.kind === 'user' ? 'token' : principal.kind === 'api_key' ? 'api_key' : 'none',
    plan: isAuthenticated(principal) ? principal.plan : null,
    instance: socket.data.instance,
    connected_at: new Date(socket.data.connectedAt).toISOString(),
    address: socket.handshake.address,
    transport: typeof socket.handshake.query.transport === 'string' ? socket.handshake.query.transport : 'unknown',
    channels: [...socket.rooms].filter((room) => room !== socket.id && !room.startsWith('@')),
  };
};

@ApiTags('admin')
@ApiBearerAuth()
@Roles('admin')
@Controller('ws')
export class RealtimeAdminController {
  constructor(private readonly connections: RealtimeConnections) {}

  private async all(): Promise<ConnectionView[]> {
    const { user, public: pub } = this.connections.namespaces;
    const [users, publics] = await Promise.all([user?.fetchSockets() ?? [], pub?.fetchSockets() ?? []]);
    return [
      ...(users as unknown as AnySocket[]).map((s) => view('/user', s)),
      ...(publics as unknown as AnySocket[]).map((s) => view('/public', s)),
    ];
  }

  @Get('connected-users')
  @ApiOperation({ summary: 'Ids of the users with at least one open socket, on any instance' })
  async connectedUsers(): Promise<{ user_ids: string[]; count: number }> {
    const ids = [...new Set((await this.all()).flatMap((c) => (c.user_id ? [c.user_id] : [])))].sort(
      (a, b) => Number(a) - Number(b),
    );
    return { user_ids: ids, count: ids.length };
  }

  @Get('connections')
  @ApiOperation({ summary: 'Every open socket, on any instance' })
  async list(): Promise<{ connections: ConnectionView[]; count: number }> {
    const connections = await this.all();
    return { connections, count: connections.length };
  }

  @Get('stats')
  @ApiOperation({ summary: 'Connection counts, on any instance' })
  async stats(): Promise<Record<string, unknown>> {
    const connections = await this.all();
    const byInstance: Record<string, number> = {};
    for (const c of connections) byInstance[c.instance] = (byInstance[c.instance] ?? 0) + 1;
    return {
      connections: connections.length,
      by_namespace: {
        user: connections.filter((c) => c.namespace === '/user').length,
        public: connections.filter((c) => c.namespace === '/public').length,
      },
      authenticated: connections.filter((c) => c.user_id !== null).length,
      users: new Set(connections.flatMap((c) => (c.user_id ? [c.user_id] : []))).size,
      instances: Object.keys(byInstance).length,
      by_instance: byInstance,
    };
  }
}
