import { Controller, Delete, Get, HttpCode, Param, Post } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiTags } from '@nestjs/swagger';
import { CurrentUser } from '../../core/auth/auth.decorators.js';
import type { AuthUser } from '../../core/auth/auth.types.js';
import { ApiKeysService, type ApiKeyView } from './api-keys.service.js';
import { ApiAnswer, ApiErrors } from '../../core/http/openapi.js';

@ApiTags('user')
@ApiBearerAuth()
@Controller('user/api-keys')
export class ApiKeysController {
  constructor(private readonly apiKeys: ApiKeysService) {}

  @Post()
  @ApiOperation({ summary: 'Create an API key (shown once) on the user’s plan' })
  @ApiAnswer(201, '{id, api_key, plan} (api_key is shown only here)')
  create(@CurrentUser() user: AuthUser): Promise<{ id: string; api_key: string; plan: string }> {
    return this.apiKeys.issue(user.id);
  }

  @Get()
  @ApiOperation({ summary: 'The user’s live API keys (without their secrets)' })
  @ApiAnswer(200, '{api_keys: [{id, prefix, plan, created_at, last_used_at}]}')
  async list(@CurrentUser() user: AuthUser): Promise<{ api_keys: ApiKeyView[] }> {
    return { api_keys: await this.apiKeys.list(user.id) };
  }

  @Delete(':id')
  @HttpCode(204)
  @ApiOperation({ summary: 'Revoke an API key' })
  @ApiAnswer(204, 'no body; sockets and /api/data connections that used the key are closed')
  @ApiErrors('NOT_FOUND')
  async revoke(@CurrentUser() user: AuthUser, @Param('id') id: string): Promise<void> {
    await this.apiKeys.revoke(user.id, id);
  }
}
