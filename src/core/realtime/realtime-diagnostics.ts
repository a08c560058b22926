// What the connection diagnostics show (seed 001's /api/v1/ws/*, seed 002's /api/websocket/*):
// every open connection on any instance, socket.io and plain WebSocket alike, each with its
// endpoint, and the counts made of them.
import { Injectable } from '@nestjs/common';
import type { RemoteSocket } from 'socket.io';
import { RealtimeConnections } from './realtime-connections.service.js';
import { isAuthenticated, SOCKET_PATH, type SocketData } from './realtime.types.js';

type AnySocket = RemoteSocket<Record<string, never>, SocketData>;

export interface ConnectionView {
  id: string;
  namespace: string;
  /** Where the client connected: socket.io's path, or a plain-WebSocket endpoint (contract section 7). */
  endpoint: string;
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
    endpoint: socket.data.endpoint ?? SOCKET_PATH,
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

const tally = (keys: string[]): Record<string, number> => {
  const counts: Record<string, number> = {};
  for (const key of keys) counts[key] = (counts[key] ?? 0) + 1;
  return counts;
};

/** The ids of the users among `connections`, in numeric order. */
const userIdsOf = (connections: ConnectionView[]): string[] =>
  [...new Set(connections.flatMap((c) => (c.user_id ? [c.user_id] : [])))].sort((a, b) => Number(a) - Number(b));

@Injectable()
export class RealtimeDiagnostics {
  constructor(private readonly connections: RealtimeConnections) {}

  /** Every open connection, on any instance; only those of `endpoint` when it is given. */
  private async connectionsOf(endpoint?: string): Promise<ConnectionView[]> {
    const { user, public: pub } = this.connections.namespaces;
    const [users, publics] = await Promise.all([user?.fetchSockets() ?? [], pub?.fetchSockets() ?? []]);
    const all = [
      ...(users as unknown as AnySocket[]).map((s) => view('/user', s)),
      ...(publics as unknown as AnySocket[]).map((s) => view('/public', s)),
    ];
    return endpoint === undefined ? all : all.filter((c) => c.endpoint === endpoint);
  }

  /** The users with at least one open connection (of `endpoint` when it is given), in numeric order. */
  async connectedUsers(endpoint?: string): Promise<{ user_ids: string[]; count: number }> {
    const ids = userIdsOf(await this.connectionsOf(endpoint));
    return { user_ids: ids, count: ids.length };
  }

  /** Every open connection (of `endpoint` when it is given), and the users they belong to. */
  async connectionList(
    endpoint?: string,
  ): Promise<{ user_ids: string[]; connections: ConnectionView[]; count: number }> {
    const connections = await this.connectionsOf(endpoint);
    return { user_ids: userIdsOf(connections), connections, count: connections.length };
  }

  /** Connection counts (of `endpoint` when it is given) by namespace, endpoint and instance. */
  async stats(endpoint?: string): Promise<Record<string, unknown>> {
    const connections = await this.connectionsOf(endpoint);
    const byInstance = tally(connections.map((c) => c.instance));
    return {
      connections: connections.length,
      by_namespace: {
        user: connections.filter((c) => c.namespace === '/user').length,
        public: connections.filter((c) => c.namespace === '/public').length,
      },
      by_endpoint: tally(connections.map((c) => c.endpoint)),
      authenticated: connections.filter((c) => c.user_id !== null).length,
      users: userIdsOf(connections).length,
      instances: Object.keys(byInstance).length,
      by_instance: byInstance,
    };
  }
}
