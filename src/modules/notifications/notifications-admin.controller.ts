import { Body, Controller, HttpCode, Param, Post } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiTags } from '@nestjs/swagger';
import { CurrentUser, Roles } from '../../core/auth/auth.decorators.js';
import type { AuthUser } from '../../core/auth/auth.types.js';
import { UserIdPipe } from '../users/user-id.pipe.js';
import { NoticeRequestDto, TestNotificationRequestDto } from './dto/notifications-requests.dto.js';
import { NotificationsService } from './notifications.service.js';
import { ApiAnswer, ApiErrors } from '../../core/http/openapi.js';

@ApiTags('admin')
@ApiBearerAuth()
@Roles('admin')
@Controller('admin')
export class NotificationsAdminController {
  constructor(private readonly notifications: NotificationsService) {}

  @Post('notifications/test')
  @HttpCode(202)
  @ApiOperation({ summary: 'Push any event with any payload on a user’s channel' })
  @ApiAnswer(202, '{published: true, user_id, event, channel}')
  @ApiErrors('VALIDATION_FAILED', 'NOT_FOUND', 'FORBIDDEN')
  async test(@CurrentUser() admin: AuthUser, @Body() body: TestNotificationRequestDto) {
    const { channel } = await this.notifications.pushTest(admin.id, body.user_id, body.event, body.payload ?? {});
    return { published: true, user_id: body.user_id, event: body.event, channel };
  }

  @Post('users/:id/notices')
  @ApiOperation({ summary: 'Send a user a notification (`notice` and `notification_update`)' })
  @ApiAnswer(201, '{sent: true, user_id}')
  @ApiErrors('VALIDATION_FAILED', 'NOT_FOUND', 'FORBIDDEN')
  async notice(
    @CurrentUser() admin: AuthUser,
    @Param('id', UserIdPipe) userId: string,
    @Body() body: NoticeRequestDto,
  ) {
    await this.notifications.send(admin.id, userId, body.message);
    return { sent: true, user_id: userId };
  }
}
