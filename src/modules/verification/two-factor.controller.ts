import { Body, Controller, HttpCode, Post } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiTags } from '@nestjs/swagger';
import { CurrentUser } from '../../core/auth/auth.decorators.js';
import type { AuthUser } from '../../core/auth/auth.types.js';
import { EnableTwoFactorRequestDto } from './dto/verification-requests.dto.js';
import { TotpService, type TwoFactorSetup } from './totp.service.js';
import { ApiAnswer, ApiErrors } from '../../core/http/openapi.js';

@ApiTags('user')
@ApiBearerAuth()
@Controller('user/2fa')
export class TwoFactorController {
  constructor(private readonly totp: TotpService) {}

  @Post('setup')
  @HttpCode(200)
  @ApiOperation({ summary: 'A new TOTP secret and its otpauth:// URL (2FA stays off until enabled)' })
  @ApiAnswer(200, '{secret, otpauth_url}')
  @ApiErrors('TWO_FACTOR_ALREADY_ENABLED')
  setup(@CurrentUser() user: AuthUser): Promise<TwoFactorSetup> {
    return this.totp.setup(user.id);
  }

  @Post('enable')
  @HttpCode(200)
  @ApiOperation({ summary: 'Turn 2FA on with a current code of the authenticator' })
  @ApiAnswer(200, '{two_factor_enabled: true}')
  @ApiErrors(
    'VALIDATION_FAILED',
    'TOTP_INVALID',
    'TOTP_REPLAYED',
    'TWO_FACTOR_NOT_SET_UP',
    'TWO_FACTOR_ALREADY_ENABLED',
    'VERIFICATION_LOCKED',
  )
  enable(
    @CurrentUser() user: AuthUser,
    @Body() body: EnableTwoFactorRequestDto,
  ): Promise<{ two_factor_enabled: true }> {
    return this.totp.enable(user.id, body.code);
  }
}
