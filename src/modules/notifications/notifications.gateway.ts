import { MessageBody, SubscribeMessage } from '@nestjs/websockets';
import type { RequestResult } from '../../core/realtime/ws-envelope.js';
import { UserGateway, WsPrincipal } from '../../core/realtime/ws-requests.js';
import type { AuthenticatedPrincipal } from '../../core/realtime/realtime.types.js';
import { GetNotificationsRequestDto, MarkNotificationsReadRequestDto } from './dto/notifications-requests.dto.js';
import { NotificationsService } from './notifications.service.js';

@UserGateway()
export class NotificationsGateway {
  constructor(private readonly notifications: NotificationsService) {}

  @SubscribeMessage('get_notifications')
  async list(
    @WsPrincipal() user: AuthenticatedPrincipal,
    @MessageBody() body: GetNotificationsRequestDto,
  ): Promise<RequestResult> {
    return {
      message: 'notifications retrieved',
      data: await this.notifications.list(user.userId, body.limit, body.offset),
    };
  }

  @SubscribeMessage('mark_notifications_read')
  async markRead(
    @WsPrincipal() user: AuthenticatedPrincipal,
    @MessageBody() body: MarkNotificationsReadRequestDto,
  ): Promise<RequestResult> {
    return { message: 'notifications marked read', data: await this.notifications.markRead(user.userId, body.ids) };
  }
}
