// The realtime core's own gateways: connection life on /user and /public, joining and leaving
// channels (contract section 3, seed 004), and `refresh` of a socket's token. Every gateway costs
// memory on every socket, so the core keeps to one per namespace.
import { Logger, UseFilters, UsePipes } from '@nestjs/common';
import {
  Ack,
  ConnectedSocket,
  MessageBody,
  SubscribeMessage,
  WebSocketGateway,
  type OnGatewayConnection,
  type OnGatewayDisconnect,
  type OnGatewayInit,
} from '@nestjs/websockets';
import { IsDefined, IsString, MaxLength } from 'class-validator';
import type { Namespace, Socket } from 'socket.io';
import { AppConfig } from '../config/app-config.js';
import { ChannelDelivery } from './channel-delivery.service.js';
import { RealtimeConnections } from './realtime-connections.service.js';
import { RealtimeDirectory } from './realtime-directory.js';
import { plainMarkOf } from './realtime-handshake.js';
import {
  isAuthenticated,
  PUBLIC_CHANNELS,
  PUBLIC_NAMESPACE,
  SETTINGS_CHANNEL,
  USER_NAMESPACE,
  type UserSocket,
} from './realtime.types.js';
import type { RequestResult } from './ws-envelope.js';
import { Enveloped, UserRequest, WsExceptionFilter } from './ws-requests.js';
import { createValidationPipe } from '../errors/validation.js';

type FailureCode = 'SUBSCRIPTION_FAILED' | 'VALIDATION_FAILED' | 'INTERNAL';

/** The ack of `channel` and `leave` (contract section 3; not the request envelope). */
export type ChannelAck =
  | { ok: true; channel: string; seq: number; reset?: boolean }
  | { ok: false; channel?: string; error: { code: FailureCode; message: string } };

type AckFn = ((response: unknown) => void) | undefined;

const CHANNEL_ID = /^[A-Za-z0-9][A-Za-z0-9:_-]{0,99}$/;

/** `"id"` or `{channel, since}`. */
export function parseChannelRequest(body: unknown): { channel: string; since?: number } | string {
  if (typeof body === 'string') return CHANNEL_ID.test(body) ? { channel: body } : 'unknown channel';
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    return 'channel must be a channel id or {channel, since}';
  }
  const { channel, since, ...rest } = body as Record<string, unknown>;
  if (Object.keys(rest).length > 0) return `property ${Object.keys(rest)[0]} should not exist`;
  if (typeof channel !== 'string') return 'channel must be a string';
  if (since !== undefined && !(Number.isSafeInteger(since) && (since as number) >= 0)) {
    return 'since must be a non-negative integer';
  }
  if (!CHANNEL_ID.test(channel)) return 'unknown channel';
  return { channel, since: since as number | undefined };
}

function reply(socket: Socket, ack: AckFn, request: string, response: ChannelAck): void {
  if (ack) ack(response);
  else if (!response.ok) socket.emit('response', { ...response, request_type: request });
}

function failure(code: FailureCode, message: string, channel?: string): ChannelAck {
  return { ok: false, ...(channel ? { channel } : {}), error: { code, message } };
}

export class RefreshRequestDto {
  @MaxLength(4096)
  @IsString()
  @IsDefined({ message: '$property is required' })
  access_token: string;
}

/** The requests this gateway answers: their bodies and replies (declared in UserRequestMap). */
export interface ChannelsRequests {
  refresh: { body: RefreshRequestDto; reply: { expires_in: number } };
}

declare module './user-requests.js' {
  interface UserRequestMap extends ChannelsRequests {}
}

@WebSocketGateway({ namespace: USER_NAMESPACE })
export class UserChannelsGateway implements OnGatewayInit, OnGatewayConnection, OnGatewayDisconnect {
  private readonly logger = new Logger(UserChannelsGateway.name);

  constructor(
    private readonly connections: RealtimeConnections,
    private readonly delivery: ChannelDelivery,
    private readonly directory: RealtimeDirectory,
    private readonly config: AppConfig,
  ) {}

  afterInit(nsp: Namespace): void {
    this.connections.attachUser(nsp);
    this.delivery.attach({ user: nsp });
  }

  async handleConnection(socket: UserSocket): Promise<void> {
    try {
      await this.connections.onUserConnect(socket);
    } catch (error) {
      if (!this.connections.isDraining) {
        this.logger.error({ err: error, socket_id: socket.id }, 'could not set up a connection');
      }
      socket.disconnect(true);
    }
  }

  async handleDisconnect(socket: UserSocket): Promise<void> {
    await this.connections.onDisconnect(socket, 'user');
  }

  @SubscribeMessage('channel')
  async join(@ConnectedSocket() socket: UserSocket, @MessageBody() body: unknown, @Ack() ack: AckFn): Promise<void> {
    const request = parseChannelRequest(body);
    if (typeof request === 'string') {
      const code = request === 'unknown channel' ? 'SUBSCRIPTION_FAILED' : 'VALIDATION_FAILED';
      return reply(socket, ack, 'channel', failure(code, request));
    }
    try {
      const refusal = await this.refuse(socket, request.channel);
      if (refusal) return reply(socket, ack, 'channel', failure('SUBSCRIPTION_FAILED', refusal, request.channel));
      const { seq, reset } = await this.delivery.join(socket, request.channel, request.since);
      reply(socket, ack, 'channel', { ok: true, channel: request.channel, seq, ...(reset ? { reset } : {}) });
    } catch (error) {
      this.logger.error({ err: error, channel: request.channel }, 'joining a channel failed');
      reply(socket, ack, 'channel', failure('INTERNAL', 'internal error', request.channel));
    }
  }

  @SubscribeMessage('leave')
  async leave(@ConnectedSocket() socket: UserSocket, @MessageBody() body: unknown, @Ack() ack: AckFn): Promise<void> {
    const request = parseChannelRequest(body);
    if (typeof request === 'string') return reply(socket, ack, 'leave', failure('VALIDATION_FAILED', request));
    await this.delivery.leave(socket, request.channel);
    reply(socket, ack, 'leave', { ok: true, channel: request.channel, seq: 0 });
  }

  /** `refresh {access_token}`: swap the token of a live socket before it expires. */
  @UserRequest('refresh')
  @UseFilters(WsExceptionFilter)
  @Enveloped()
  @UsePipes(createValidationPipe())
  async refresh(
    @ConnectedSocket() socket: UserSocket,
    @MessageBody() body: RefreshRequestDto,
  ): Promise<RequestResult<{ expires_in: number }>> {
    return { message: 'token refreshed', data: await this.connections.refresh(socket, body.access_token) };
  }

  /** Why `socket` may not join `channel`, or undefined when it may. */
  private async refuse(socket: UserSocket, channel: string): Promise<string | undefined> {
    if (channel === SETTINGS_CHANNEL) return undefined;
    const owner = await this.directory.ownerOf(channel);
    if (!owner) return 'unknown channel';
    // With CHANNEL_ID_AUTH an id is a bearer secret, except on a plain endpoint scoped to its user.
    if (this.config.env.CHANNEL_ID_AUTH && !plainMarkOf(socket)?.ownChannelsOnly) return undefined;
    const principal = socket.data.principal;
    return isAuthenticated(principal) && principal.userId === owner.ownerId ? undefined : 'not your channel';
  }
}

@WebSocketGateway({ namespace: PUBLIC_NAMESPACE })
export class PublicChannelsGateway implements OnGatewayInit, OnGatewayConnection, OnGatewayDisconnect {
  private readonly logger = new Logger(PublicChannelsGateway.name);
  private readonly channels: Set<string>;

  constructor(
    private readonly connections: RealtimeConnections,
    private readonly delivery: ChannelDelivery,
    config: AppConfig,
  ) {
    const pairs = config.business.pairs.map((p) => p.symbol);
    this.channels = new Set(PUBLIC_CHANNELS.flatMap((base) => [base, ...pairs.map((pair) => `${base}:${pair}`)]));
  }

  afterInit(nsp: Namespace): void {
    this.connections.attachPublic(nsp);
    this.delivery.attach({ public: nsp });
  }

  async handleConnection(socket: Socket): Promise<void> {
    this.connections.onPublicConnect(socket);
    // As Paymium's own example expects: a public socket hears every market channel at once (and
    // gets the depth snapshot first).
    try {
      await Promise.all(PUBLIC_CHANNELS.map((channel) => this.delivery.joinPublic(socket, channel)));
    } catch (error) {
      this.logger.error({ err: error, socket_id: socket.id }, 'could not join the public channels');
      socket.disconnect(true);
    }
  }

  async handleDisconnect(socket: Socket): Promise<void> {
    await this.connections.onDisconnect(socket, 'public');
  }

  @SubscribeMessage('channel')
  async join(@ConnectedSocket() socket: Socket, @MessageBody() body: unknown, @Ack() ack: AckFn): Promise<void> {
    const request = parseChannelRequest(body);
    const channel = typeof request === 'string' ? undefined : request.channel;
    if (!channel || !this.channels.has(channel)) {
      return reply(socket, ack, 'channel', failure('SUBSCRIPTION_FAILED', 'unknown public channel'));
    }
    try {
      const { seq } = await this.delivery.joinPublic(socket, channel);
      reply(socket, ack, 'channel', { ok: true, channel, seq });
    } catch (error) {
      this.logger.error({ err: error, channel }, 'joining a public channel failed');
      reply(socket, ack, 'channel', failure('INTERNAL', 'internal error', channel));
    }
  }

  @SubscribeMessage('leave')
  async leave(@ConnectedSocket() socket: Socket, @MessageBody() body: unknown, @Ack() ack: AckFn): Promise<void> {
    const request = parseChannelRequest(body);
    if (typeof request === 'string') return reply(socket, ack, 'leave', failure('VALIDATION_FAILED', request));
    await socket.leave(request.channel);
    reply(socket, ack, 'leave', { ok: true, channel: request.channel, seq: 0 });
  }
}
