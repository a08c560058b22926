import { Body, Controller, Get, Param, Put } from '@nestjs/common';
import { ApiBearerAuth, ApiBody, ApiOperation, ApiTags } from '@nestjs/swagger';
import { CurrentUser, Roles } from '../../core/auth/auth.decorators.js';
import type { AuthUser } from '../../core/auth/auth.types.js';
import { SettingsService, type SettingView } from './settings.service.js';
import { ApiAnswer, ApiErrors } from '../../core/http/openapi.js';

@ApiTags('settings')
@ApiBearerAuth()
@Controller()
export class SettingsController {
  constructor(private readonly settings: SettingsService) {}

  @Get('settings')
  @ApiOperation({ summary: 'Current runtime settings, with the settings channel seq' })
  @ApiAnswer(200, '{settings: {<key>: {...}}, as_of_seq}')
  all() {
    return this.settings.all();
  }

  @Roles('admin')
  @Put('admin/settings/:key')
  @ApiOperation({ summary: 'Store a setting and push `<key>_updated` on the settings channel' })
  @ApiAnswer(200, '{key, value, updated_at}')
  @ApiErrors('VALIDATION_FAILED', 'FORBIDDEN')
  @ApiBody({ schema: { type: 'object', example: { withdrawal_fee_rate: '1.50' } } })
  set(@CurrentUser() admin: AuthUser, @Param('key') key: string, @Body() value: unknown): Promise<SettingView> {
    return this.settings.set(admin.id, key, value);
  }
}
