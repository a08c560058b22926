import { MessageBody, SubscribeMessage } from '@nestjs/websockets';
import type { AuthenticatedPrincipal } from '../../core/realtime/realtime.types.js';
import type { RequestResult } from '../../core/realtime/ws-envelope.js';
import { UserGateway, WsPrincipal } from '../../core/realtime/ws-requests.js';
import { VerificationRequestDto, VerifyCodeRequestDto } from './dto/verification-requests.dto.js';
import { VerificationService } from './verification.service.js';
import type { IssuedToken } from './verification.types.js';

/** `verification_request`, `verify_otp`, `verify_totp` on `/user` (seed 000). */
@UserGateway()
export class VerificationGateway {
  constructor(private readonly verification: VerificationService) {}

  @SubscribeMessage('verification_request')
  async request(
    @WsPrincipal() user: AuthenticatedPrincipal,
    @MessageBody() body: VerificationRequestDto,
  ): Promise<RequestResult> {
    return this.verification.request(user.userId, body);
  }

  @SubscribeMessage('verify_otp')
  async verifyOtp(
    @WsPrincipal() user: AuthenticatedPrincipal,
    @MessageBody() body: VerifyCodeRequestDto,
  ): Promise<RequestResult<IssuedToken>> {
    return {
      message: 'verification successful',
      data: await this.verification.verifyOtp(user.userId, body.code, body.purpose),
    };
  }

  @SubscribeMessage('verify_totp')
  async verifyTotp(
    @WsPrincipal() user: AuthenticatedPrincipal,
    @MessageBody() body: VerifyCodeRequestDto,
  ): Promise<RequestResult<IssuedToken>> {
    return {
      message: 'verification successful',
      data: await this.verification.verifyTotp(user.userId, body.code, body.purpose),
    };
  }
}
