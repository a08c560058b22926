// The plain-WebSocket endpoints (contract section 7) on the HTTP server that carries socket.io: one
// `ws` server (noServer) takes the upgrades of their paths, beside engine.io's own path. Before the
// upgrade, the origin and the credentials (when the endpoint reads them from the request) are
// checked as socket.io's handshake checks them, and a refusal is an HTTP error with the body of
// seed 001. An accepted connection is a PlainConnection: admitted like a socket.io handshake, it
// joins the `/user` namespace as one of its sockets (plain-connection.ts), its frames translated by
// its endpoint's protocol (endpoints/*.ts).
import { randomBytes } from 'node:crypto';
import { STATUS_CODES, type IncomingMessage, type Server as HttpServer } from 'node:http';
import type { Duplex } from 'node:stream';
import { Injectable, Logger, type OnApplicationShutdown } from '@nestjs/common';
import type { Server } from 'socket.io';
import { WebSocketServer } from 'ws';
import { AppConfig } from '../../config/app-config.js';
import { asUnavailable } from '../../errors/dependency-errors.js';
import { HandshakeRefusal, PLAIN_ENDPOINT, RealtimeHandshake, type PlainMark } from '../realtime-handshake.js';
import { RealtimeLimits } from '../realtime-limits.service.js';
import { OutboxStore } from '../outbox.store.js';
import {
  internalStream,
  isAuthenticated,
  sessionKeyOf,
  SETTINGS_CHANNEL,
  SOCKET_PATH,
  USER_NAMESPACE,
  type AuthenticatedPrincipal,
  type SocketData,
} from '../realtime.types.js';
import { cashierSvcEndpoint } from './endpoints/cashier-svc.js';
import { dataStreamEndpoint } from './endpoints/data-stream.js';
import { mobileApiEndpoint } from './endpoints/mobile-api.js';
import { paymentUpdatesEndpoint } from './endpoints/payment-updates.js';
import { CLOSE, type Credentials, type EndpointProtocol } from './plain-protocol.js';
import { PlainConnection } from './plain-connection.js';
import type { ConnectOutcome, PlainOpening, PlainServices } from './plain-services.js';
import { PlainWebSocket } from './plain-web-socket.js';

const ENDPOINTS: readonly EndpointProtocol[] = [
  cashierSvcEndpoint,
  mobileApiEndpoint,
  paymentUpdatesEndpoint,
  dataStreamEndpoint,
];

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
    private readonly outbox: OutboxStore,
  ) {}

  /** Takes the upgrades of the plain endpoints' paths on socket.io's HTTP server. */
  attach(io: Server): void {
    const http = io.httpServer as HttpServer | undefined;
    if (!http || this.wss) return;
    this.io = io;
    const business = this.config.business;
    this.services = {
      nsp: io.of(USER_NAMESPACE),
      connect: (connection, auth) => this.connect(connection, auth),
      countMessage: (principal) => this.limits.checkMessage(principal.userId, principal.plan),
      anonymousPerSecond: this.limits.planLimits(business.defaultPlan).messagesPerSecond,
      reportError: (connection, err) =>
        this.logger.warn({ err, endpoint: connection.protocol.path }, 'plain WebSocket error'),
    };
    this.wss = new WebSocketServer({
      noServer: true,
      maxPayload: this.config.env.WS_MAX_PAYLOAD,
      perMessageDeflate: false,
      WebSocket: PlainWebSocket,
      // PlainConnection keeps the open connections (for the heartbeat); a second set would cost each one.
      clientTracking: false,
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
    socket.on('error', ignore);
    if (!endpoint || !this.wss || !this.io) {
      respond(socket, 404, { status_code: 404, message: 'no WebSocket endpoint here', code: 'NOT_FOUND' });
      return;
    }
    const credentials = endpoint.credentials(req, url.searchParams);
    let mark: PlainMark = {
      endpoint: endpoint.path,
      streams: endpoint.streams?.(url.searchParams) ?? [],
      single: endpoint.single === true,
      ownChannelsOnly: endpoint.ownChannelsOnly === true,
      addressed: endpoint.addressed === true,
    };
    // The query alone, not the URL: the connection keeps it while it opens, and nothing else of this function.
    const opening: PlainOpening = { query: new URLSearchParams(url.search) };
    try {
      const principal = await this.handshake.preflight(
        req.headers,
        credentials === 'in-band' ? undefined : credentials,
        this.draining,
      );
      if (principal && isAuthenticated(principal) && credentials !== 'in-band') {
        mark = await this.fromNow(mark, credentials, principal.userId, principal.channel);
        opening.principal = principal;
        opening.since = credentials.since;
      }
    } catch (error) {
      const refusal = error instanceof HandshakeRefusal ? error.data : undefined;
      if (!refusal) this.logger.error({ err: error }, 'plain WebSocket handshake failed');
      const unavailable = refusal ? undefined : asUnavailable(error);
      respond(
        socket,
        refusal?.status_code ?? (unavailable ? 503 : 500),
        refusal ?? {
          status_code: unavailable ? 503 : 500,
          message: unavailable?.message ?? 'internal error',
          code: unavailable?.code ?? 'INTERNAL',
        },
      );
      return;
    }
    this.wss.handleUpgrade(req, socket, head, (ws) => this.open(ws, endpoint, mark, opening));
  }

  /** A connection past its upgrade: its endpoint takes it from here (and calls `connect`). */
  private open(ws: PlainWebSocket, endpoint: EndpointProtocol, mark: PlainMark, opening: PlainOpening): void {
    const { services } = this;
    if (!services) return;
    const connection = new PlainConnection(ws, endpoint, services, mark, opening);
    Promise.resolve()
      .then(() => endpoint.onOpen(connection))
      .catch((err: unknown) => {
        this.logger.error({ err, endpoint: endpoint.path }, 'could not open a plain WebSocket connection');
        connection.end(CLOSE.internal, 'internal error');
      });
  }

  /**
   * Admits `connection` (as the /user handshake middleware admits a socket) and puts it in the
   * namespace as a socket: then the gateways' connection handlers set it up (joins, replay,
   * `connected`), and it is served like any /user socket.
   */
  private async connect(
    connection: PlainConnection,
    auth: Record<string, unknown> | undefined,
  ): Promise<ConnectOutcome> {
    let data: SocketData;
    try {
      const credentials = auth ? { auth } : { principal: connection.openedWith?.principal };
      data = await this.handshake.admitPlain(connection.id, credentials, connection[PLAIN_ENDPOINT], this.draining);
    } catch (error) {
      const refusal = error instanceof HandshakeRefusal ? error.data : undefined;
      return { ok: false, data: { code: refusal?.code ?? 'INTERNAL', message: refusal?.message ?? 'internal error' } };
    }
    if (connection.isEnded) {
      // Gone while it was admitted: it does not count under the plan.
      await this.release(connection.id, data.principal as AuthenticatedPrincipal);
      return { ok: false, data: { code: 'UNAUTHORIZED', message: 'the connection is closed' } };
    }
    connection.enter(data);
    return { ok: true, data: { sid: connection.id } };
  }

  private release(socketId: string, principal: AuthenticatedPrincipal): Promise<void> {
    return this.limits
      .releaseConnection(principal.userId, socketId, sessionKeyOf(principal))
      .catch((err: unknown) => this.logger.warn({ err }, 'could not release a connection'));
  }

  /**
   * A client that opened the connection is owed every event from that moment, though the
   * connection joins its channels a little later: each channel the client did not give a `since`
   * for is read from the seq it stands at now (one round trip), so what comes in between is
   * replayed, not lost.
   */
  private async fromNow(
    mark: PlainMark,
    credentials: Exclude<Credentials, 'in-band'>,
    userId: string,
    userChannel: string,
  ): Promise<PlainMark> {
    const streams = mark.streams.map((stream) => ({ ...stream, channel: internalStream(stream.name, userId) }));
    const latest = await this.outbox.latestOf([
      userChannel,
      SETTINGS_CHANNEL,
      ...streams.filter((s) => s.since === undefined).map((s) => s.channel),
    ]);
    if (credentials.since === undefined) credentials.since = latest.get(userChannel);
    return {
      ...mark,
      settingsSince: latest.get(SETTINGS_CHANNEL),
      streams: streams.map(({ name, since, channel }) => ({ name, since: since ?? latest.get(channel) })),
    };
  }
}

/** Errors of a socket being upgraded (unhandled, one would end the process); ws handles them once it is open. */
function ignore(): void {}

/** An HTTP answer on a socket that asked to upgrade, then the end of it. */
function respond(socket: Duplex, status: number, body: Record<string, unknown>): void {
  const text = JSON.stringify({ trace_id: randomBytes(8).toString('hex'), data: null, ...body });
  socket.end(
    `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? 'Error'}\r\n` +
      `Content-Type: application/json\r\nContent-Length: ${Buffer.byteLength(text)}\r\nConnection: close\r\n\r\n${text}`,
  );
}
