import { Body, Controller, HttpCode, Post, Req } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { Request } from 'express';
import { CurrentUser, Public } from '../../core/auth/auth.decorators.js';
import type { AuthUser } from '../../core/auth/auth.types.js';
import type { UserView } from '../users/user.entity.js';
import { AuthService, type TokenPair } from './auth.service.js';
import { LoginRequestDto, RefreshRequestDto, SignupRequestDto } from './dto/auth-requests.dto.js';
import { ApiAnswer, ApiErrors } from '../../core/http/openapi.js';

@ApiTags('auth')
@Controller('auth')
export class AuthController {
  constructor(private readonly auth: AuthService) {}

  @Public()
  @Post('signup')
  @ApiOperation({ summary: 'Create an account' })
  @ApiAnswer(201, '{user: {id, email, phone, name, channel, state, plan, role, two_factor_enabled, created_at}}')
  @ApiErrors('VALIDATION_FAILED', 'CONFLICT')
  async signup(@Body() body: SignupRequestDto): Promise<{ user: UserView }> {
    return { user: await this.auth.signup(body) };
  }

  @Public()
  @Post('login')
  @HttpCode(200)
  @ApiOperation({ summary: 'Exchange email and password for an access and a refresh token' })
  @ApiAnswer(200, '{access_token, token_type: "Bearer", expires_in, refresh_token, user}')
  @ApiErrors('VALIDATION_FAILED', 'AUTHENTICATION_FAILED', 'RATE_LIMIT_EXCEEDED')
  login(@Body() body: LoginRequestDto, @Req() req: Request): Promise<TokenPair & { user: UserView }> {
    return this.auth.login(body.email, body.password, { userAgent: req.get('user-agent'), ip: req.ip });
  }

  @Public()
  @Post('refresh')
  @HttpCode(200)
  @ApiOperation({ summary: 'Rotate a refresh token; reusing a spent one revokes the session' })
  @ApiAnswer(200, '{access_token, token_type: "Bearer", expires_in, refresh_token}')
  @ApiErrors('VALIDATION_FAILED', 'AUTHENTICATION_FAILED')
  refresh(@Body() body: RefreshRequestDto): Promise<TokenPair> {
    return this.auth.refresh(body.refresh_token);
  }

  @Post('logout')
  @HttpCode(200)
  @ApiBearerAuth()
  @ApiOperation({ summary: 'Revoke the session of the bearer token, on every instance' })
  @ApiAnswer(200, '{logged_out: true}')
  async logout(@CurrentUser() user: AuthUser): Promise<{ logged_out: true }> {
    await this.auth.logout(user.sessionId);
    return { logged_out: true };
  }
}
