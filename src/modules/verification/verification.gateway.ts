import { MessageBody } from '@nestjs/websockets';
import type { AuthenticatedPrincipal } from '../../core/realtime/realtime.types.js';
import type { RequestResult } from '../../core/realtime/ws-envelope.js';
import { UserGateway, UserRequest, WsPrincipal } from '../../core/realtime/ws-requests.js';
import { VerificationRequestDto, VerifyCodeRequestDto } from './dto/verification-requests.dto.js';
import { VerificationService, type RequestOutcome } from './verification.service.js';
import type { IssuedToken } from './verification.types.js';

/** The requests this gateway answers: their bodies and replies (declared in UserRequestMap). */
export interface VerificationRequests {
  verification_request: { body: VerificationRequestDto; reply: RequestOutcome['data'] };
  verify_otp: { body: VerifyCodeRequestDto; reply: IssuedToken };
  verify_totp: { body: VerifyCodeRequestDto; reply: IssuedToken };
}

declare module '../../core/realtime/user-requests.js' {
  interface UserRequestMap extends VerificationRequests {}
}

/** `verification_request`, `verify_otp`, `verify_totp` on `/user` (seed 000). */
@UserGateway()
export class VerificationGateway {
  constructor(private readonly verification: VerificationService) {}

  @UserRequest('verification_request')
  async request(
    @WsPrincipal() user: AuthenticatedPrincipal,
    @MessageBody() body: VerificationRequestDto,
  ): Promise<RequestResult<RequestOutcome['data']>> {
    return this.verification.request(user.userId, body);
  }

  @UserRequest('verify_otp')
  async verifyOtp(
    @WsPrincipal() user: AuthenticatedPrincipal,
    @MessageBody() body: VerifyCodeRequestDto,
  ): Promise<RequestResult<IssuedToken>> {
    return {
      message: 'verification successful',
      data: await this.verification.verifyOtp(user.userId, body.code, body.purpose),
    };
  }

  @UserRequest('verify_totp')
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
