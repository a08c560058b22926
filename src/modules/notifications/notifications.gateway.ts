import { MessageBody } from '@nestjs/websockets';
import type { RequestResult } from '../../core/realtime/ws-envelope.js';
import { UserGateway, UserRequest, WsPrincipal } from '../../core/realtime/ws-requests.js';
import type { AuthenticatedPrincipal } from '../../core/realtime/realtime.types.js';
import { GetNotificationsRequestDto, MarkNotificationsReadRequestDto } from './dto/notifications-requests.dto.js';
import { NotificationsService, type NotificationsMarked, type NotificationsPage } from './notifications.service.js';

/** The requests this gateway answers: their bodies and replies (declared in UserRequestMap). */
export interface NotificationsRequests {
  get_notifications: { body: GetNotificationsRequestDto; reply: NotificationsPage };
  mark_notifications_read: { body: MarkNotificationsReadRequestDto; reply: NotificationsMarked };
}

declare module '../../core/realtime/user-requests.js' {
  interface UserRequestMap extends NotificationsRequests {}
}

@UserGateway()
export class NotificationsGateway {
  constructor(private readonly notifications: NotificationsService) {}

  @UserRequest('get_notifications')
  async list(
    @WsPrincipal() user: AuthenticatedPrincipal,
    @MessageBody() body: GetNotificationsRequestDto,
  ): Promise<RequestResult<NotificationsPage>> {
    return {
      message: 'notifications retrieved',
      data: await this.notifications.list(user.userId, body.limit, body.offset),
    };
  }

  @UserRequest('mark_notifications_read')
  async markRead(
    @WsPrincipal() user: AuthenticatedPrincipal,
    @MessageBody() body: MarkNotificationsReadRequestDto,
  ): Promise<RequestResult<NotificationsMarked>> {
    return { message: 'notifications marked read', data: await this.notifications.markRead(user.userId, body.ids) };
  }
}
