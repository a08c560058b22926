// How socket.io requests are answered, in one place: the success envelope (interceptor), the
// error envelope (filter), the validation of request DTOs, and the @UserGateway() decorator that
// feature gateways use so they stay thin:
//
//   @UserGateway()
//   export class AccountsGateway {
//     @SubscribeMessage('get_accounts')
//     getAccounts(@WsPrincipal() user: AuthenticatedPrincipal) { return { message: 'accounts retrieved', data } }
//   }
import {
  applyDecorators,
  Catch,
  createParamDecorator,
  Injectable,
  Logger,
  UseFilters,
  UseInterceptors,
  UsePipes,
  type ArgumentsHost,
  type CallHandler,
  type ExceptionFilter,
  type ExecutionContext,
  type NestInterceptor,
} from '@nestjs/common';
import { WebSocketGateway } from '@nestjs/websockets';
import { map, type Observable } from 'rxjs';
import type { Socket } from 'socket.io';
import { DomainError } from '../errors/domain-error.js';
import { createValidationPipe } from '../errors/validation.js';
import { isAuthenticated, USER_NAMESPACE, type AuthenticatedPrincipal, type SocketData } from './realtime.types.js';
import {
  isRequestResult,
  successEnvelope,
  toErrorEnvelope,
  type ErrorEnvelope,
  type SuccessEnvelope,
} from './ws-envelope.js';

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

@Injectable()
export class WsEnvelopeInterceptor implements NestInterceptor {
  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    const ws = context.switchToWs();
    const socket = ws.getClient<Socket>();
    const ack = context.getArgByIndex<unknown>(2);
    const requestType = ws.getPattern();
    return next.handle().pipe(
      map((result: unknown) => {
        if (!isRequestResult(result)) throw new Error(`handler of ${requestType} must return {message, data}`);
        const envelope = successEnvelope(result);
        if (typeof ack === 'function') return envelope; // Nest calls the ack with it
        socket.emit('response', { ...envelope, request_type: requestType });
        return undefined;
      }),
    );
  }
}

@Catch()
export class WsExceptionFilter implements ExceptionFilter {
  private readonly logger = new Logger('WsExceptionFilter');

  catch(error: unknown, host: ArgumentsHost): void {
    const ws = host.switchToWs();
    const socket = ws.getClient<Socket>();
    const requestType = ws.getPattern();
    const envelope = toErrorEnvelope(error);
    if (!(error instanceof DomainError)) {
      this.logger.error({ err: error, request_type: requestType, socket_id: socket.id }, 'request failed');
    }
    answer(socket, host.getArgByIndex(2), requestType, envelope);
  }
}

/** A gateway of request handlers on `/user`, answered with the envelope of seed 000. */
export const UserGateway = () =>
  applyDecorators(
    WebSocketGateway({ namespace: USER_NAMESPACE }),
    UseFilters(WsExceptionFilter),
    UseInterceptors(WsEnvelopeInterceptor),
    UsePipes(createValidationPipe()),
  );

/** The authenticated principal of the socket sending the request. */
export const WsPrincipal = createParamDecorator((_data: unknown, context: ExecutionContext): AuthenticatedPrincipal => {
  const { principal } = context.switchToWs().getClient<Socket>().data as SocketData;
  if (!isAuthenticated(principal)) throw new DomainError('UNAUTHORIZED', 'unauthorized');
  return principal;
});
