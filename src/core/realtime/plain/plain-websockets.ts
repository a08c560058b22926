// The plain-WebSocket endpoints (contract section 7) on the HTTP server that carries socket.io: one
// `ws` server (noServer) takes the upgrades of their paths, beside engine.io's own path. Before the
// upgrade, the origin and the credentials (when the endpoint reads them from the request) are
// checked as socket.io's handshake checks them, and a refusal is an HTTP error with the body of
// seed 001. An accepted connection becomes a socket.io `/user` connection (engine-bridge.ts), its
// frames translated by its endpoint's protocol (endpoints/*.ts).
import { randomBytes } from 'node:crypto';
import { STATUS_CODES, type IncomingMessage, type Server as HttpServer } from 'node:http';
import type { Duplex } from 'node:stream';
import { Injectable, Logger, type OnApplicationShutdown } from '@nestjs/common';
import type { Server } from 'socket.io';
import { WebSocketServer } from 'ws';
import { AppConfig } from '../../config/app-config.js';
import { HandshakeRefusal, PLAIN_ENDPOINT, RealtimeHandshake, type PlainMark } from '../realtime-handshake.js';
import { RealtimeLimits } from '../realtime-limits.service.js';
import { isAuthenticated, SOCKET_PATH, USER_NAMESPACE, type SocketData } from '../realtime.types.js';
import { openEngineConnection } from './engine-bridge.js';
import { cashierSvcEndpoint } from './endpoints/cashier-svc.js';
import { dataStreamEndpoint } from './endpoints/data-stream.js';
import { CLOSE, type EndpointProtocol } from './plain-protocol.js';
import { PlainSocket, type PlainServices } from './plain-socket.js';

const ENDPOINTS: readonly EndpointProtocol[] = [cashierSvcEndpoint, dataStreamEndpoint];

@Injectable()
export class PlainWebSockets implements OnApplicationShutdown {
  private readonly logger = new Logger(PlainWebSockets.name);
  private readonly endpoints = new Map(ENDPOINTS.map((endpoint) => [endpoint.path, endpoint]));
  private wss?: WebSocketServer;
  private io?: Server;
  private draining = false;

  private services?: PlainServices;

  constructor(
    private readonly config: AppConfig,
    private readonly handshake: RealtimeHandshake,
    private readonly limits: RealtimeLimits,
  ) {}

  /** Takes the upgrades of the plain endpoints' paths on socket.io's HTTP server. */
  attach(io: Server): void {
    const http = io.httpServer as HttpServer | undefined;
    if (!http || this.wss) return;
    this.io = io;
    const users = io.of(USER_NAMESPACE);
    const business = this.config.business;
    this.services = {
      principalOf: (sid) => {
        const principal = (users.sockets.get(sid)?.data as SocketData | undefined)?.principal;
        return principal && isAuthenticated(principal) ? principal : undefined;
      },
      countMessage: (principal) => this.limits.checkMessage(principal.userId, principal.plan),
      anonymousPerSecond: this.limits.planLimits(business.defaultPlan).messagesPerSecond,
    };
    this.wss = new WebSocketServer({
      noServer: true,
      maxPayload: this.config.env.WS_MAX_PAYLOAD,
      perMessageDeflate: false,
    });
    http.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => void this.onUpgrade(req, socket, head));
  }

  onApplicationShutdown(): void {
    this.draining = true;
    this.wss?.close();
  }

  private async onUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://localhost');
    if (url.pathname === SOCKET_PATH || url.pathname.startsWith(`${SOCKET_PATH}/`)) return; // engine.io's
    const endpoint = this.endpoints.get(url.pathname);
    socket.on('error', () => undefined);
    if (!endpoint || !this.wss || !this.io) {
      respond(socket, 404, { status_code: 404, message: 'no WebSocket endpoint here', code: 'NOT_FOUND' });
      return;
    }
    const credentials = endpoint.credentials(req, url.searchParams);
    try {
      await this.handshake.preflight(req.headers, credentials === 'in-band' ? undefined : credentials, this.draining);
    } catch (error) {
      const refusal = error instanceof HandshakeRefusal ? error.data : undefined;
      if (!refusal) this.logger.error({ err: error }, 'plain WebSocket handshake failed');
      respond(
        socket,
        refusal?.status_code ?? 500,
        refusal ?? { status_code: 500, message: 'internal error', code: 'INTERNAL' },
      );
      return;
    }
    const { wss, io, services } = this;
    if (!services) return;
    wss.handleUpgrade(req, socket, head, (ws) => {
      const plain = new PlainSocket(ws, endpoint, url.searchParams, services);
      plain.on('error', (err: unknown) => this.logger.warn({ err, endpoint: endpoint.path }, 'plain WebSocket error'));
      if (credentials !== 'in-band') plain.state.set('auth', credentials);
      const mark: PlainMark = {
        endpoint: endpoint.path,
        streams: endpoint.streams?.(url.searchParams) ?? [],
        single: endpoint.single === true,
      };
      (req as IncomingMessage & { [PLAIN_ENDPOINT]?: PlainMark })[PLAIN_ENDPOINT] = mark;
      openEngineConnection(io, req, plain, () => plain.end(CLOSE.internal, 'could not open the connection')).catch(
        (err: unknown) => {
          this.logger.error({ err, endpoint: endpoint.path }, 'could not open a plain WebSocket connection');
          plain.end(CLOSE.internal, 'internal error');
        },
      );
    });
  }
}

/** An HTTP answer on a socket that asked to upgrade, then the end of it. */
function respond(socket: Duplex, status: number, body: Record<string, unknown>): void {
  const text = JSON.stringify({ trace_id: randomBytes(8).toString('hex'), data: null, ...body });
  socket.end(
    `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? 'Error'}\r\n` +
      `Content-Type: application/json\r\nContent-Length: ${Buffer.byteLength(text)}\r\nConnection: close\r\n\r\n${text}`,
  );
}
