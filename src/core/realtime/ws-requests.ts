// How socket.io requests are answered, in one place: the success envelope (@Enveloped(), answered
// by the socket.io adapter), the error envelope (filter), the validation of request DTOs, and the
// @UserGateway() decorator that feature gateways use so they stay thin:
//
//   @UserGateway()
//   export class AccountsGateway {
//     @UserRequest('get_accounts')
//     getAccounts(@WsPrincipal() user: AuthenticatedPrincipal): RequestResult<AccountsReply> { ... }
//   }
import {
  applyDecorators,
  Catch,
  createParamDecorator,
  Logger,
  SetMetadata,
  UseFilters,
  UsePipes,
  type ArgumentsHost,
  type ExceptionFilter,
  type ExecutionContext,
} from '@nestjs/common';
import { SubscribeMessage, WebSocketGateway } from '@nestjs/websockets';
import type { Socket } from 'socket.io';
import { DomainError } from '../errors/domain-error.js';
import { createValidationPipe } from '../errors/validation.js';
import { isAuthenticated, USER_NAMESPACE, type AuthenticatedPrincipal, type SocketData } from './realtime.types.js';
import type { Admission } from './request-gate.js';
import { ENVELOPED, STARTS_WHILE_COUNTED } from './socket-handlers.js';
import type { UserReplyData, UserRequestBody, UserRequestType } from './user-requests.js';
import { toErrorEnvelope, type ErrorEnvelope, type RequestResult, type SuccessEnvelope } from './ws-envelope.js';

type Ack = (response: unknown) => void;

/** Answers on the ack when the client gave one, else as a `response` event naming the request. */
export function answer(
  socket: Socket,
  ack: unknown,
  requestType: string,
  envelope: SuccessEnvelope | ErrorEnvelope,
): void {
  if (typeof ack === 'function') (ack as Ack)(envelope);
  else socket.emit('response', { ...envelope, request_type: requestType });
}

/**
 * Marks a gateway (or one handler) whose handlers return `{message, data}`: the socket.io adapter
 * answers with the success envelope, on the ack or as a `response` event (realtime-io.adapter.ts).
 * It is not a Nest interceptor on purpose: an interceptor wraps every request in an rxjs pipeline
 * (about ten objects, each alive until the request is answered), and a transfer waits ~100 ms for
 * its posting batch. A handler that returns anything else is answered with INTERNAL and logged.
 */
export const Enveloped = () => SetMetadata(ENVELOPED, true);

@Catch()
export class WsExceptionFilter implements ExceptionFilter {
  private readonly logger = new Logger('WsExceptionFilter');

  catch(error: unknown, host: ArgumentsHost): void {
    const ws = host.switchToWs();
    const socket = ws.getClient<Socket>();
    const requestType = ws.getPattern();
    const envelope = toErrorEnvelope(error);
    if (envelope.data.code === 'SERVICE_UNAVAILABLE' && !(error instanceof DomainError)) {
      this.logger.warn({ err: error, request_type: requestType }, 'request failed: a dependency is unavailable');
    } else if (!(error instanceof DomainError)) {
      this.logger.error({ err: error, request_type: requestType, socket_id: socket.id }, 'request failed');
    }
    answer(socket, host.getArgByIndex(2), requestType, envelope);
  }
}

/**
 * Marks a handler that may start while its request's rate limit is still being counted (a Redis
 * round trip that would otherwise come first): everything it changes, it changes in one
 * transaction that commits only once @WsAdmission()'s `admitted` resolves true, and it reads nothing a refused
 * request may not read. The adapter answers it only once the verdict is in: a refused request
 * gets RATE_LIMIT_EXCEEDED (or SERVICE_UNAVAILABLE), never the handler's answer.
 */
export const StartsWhileCounted = () => SetMetadata(STARTS_WHILE_COUNTED, true);

/**
 * In a @StartsWhileCounted() handler, the gate's admission of the request (request-gate.ts): its
 * `admitted` is what the transaction that makes the change waits for before its COMMIT. Undefined
 * when the request was admitted before the handler started. (An object, not the promise: Nest
 * awaits a parameter that is one.)
 */
export const WsAdmission = createParamDecorator((_data: unknown, context: ExecutionContext): Admission | undefined => {
  const admission: unknown = context.getArgByIndex(3);
  return typeof admission === 'object' && admission !== null && 'admitted' in admission
    ? (admission as Admission)
    : undefined;
});

/** A gateway of request handlers on `/user`, answered with the envelope of seed 000. */
export const UserGateway = () =>
  applyDecorators(
    WebSocketGateway({ namespace: USER_NAMESPACE }),
    UseFilters(WsExceptionFilter),
    Enveloped(),
    UsePipes(createValidationPipe()),
  );

/** The authenticated principal of the socket sending the request. */
export const WsPrincipal = createParamDecorator((_data: unknown, context: ExecutionContext): AuthenticatedPrincipal => {
  const { principal } = context.switchToWs().getClient<Socket>().data as SocketData;
  if (!isAuthenticated(principal)) throw new DomainError('UNAUTHORIZED', 'unauthorized');
  return principal;
});

type HandlerResult<K extends UserRequestType> =
  RequestResult<UserReplyData<K>> | Promise<RequestResult<UserReplyData<K>>>;

/** `void` when a handler takes the declared body among its parameters; otherwise an error message. */
type BodyCheck<K extends UserRequestType, Params extends unknown[]> = [UserRequestBody<K>] extends [void]
  ? void
  : [UserRequestBody<K>] extends [Params[number]]
    ? void
    : `the handler of ${K} must take its UserRequestMap body (@MessageBody())`;

/**
 * `@SubscribeMessage(type)` for a request of UserRequestMap, checked by the compiler: the handler
 * must answer `RequestResult<reply>` and take the declared body. A mismatch shows as an error on
 * the decorator ("return type of a method decorator" naming the request).
 */
export function UserRequest<K extends UserRequestType>(type: K) {
  return <H extends (...args: never[]) => HandlerResult<K>>(
    target: object,
    key: string | symbol,
    descriptor: TypedPropertyDescriptor<H>,
  ): BodyCheck<K, Parameters<H>> => {
    SubscribeMessage(type)(target, key, descriptor);
    return undefined;
  };
}
