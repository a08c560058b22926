import { MessageBody } from '@nestjs/websockets';
import type { RequestResult } from '../../core/realtime/ws-envelope.js';
import { UserGateway, UserRequest } from '../../core/realtime/ws-requests.js';
import { GetPartnersRequestDto } from './dto/get-partners-request.dto.js';
import { PartnersService } from './partners.service.js';
import { toPartnerView, type PartnerView } from './partners.types.js';

/** The requests this gateway answers: their bodies and replies (declared in UserRequestMap). */
export interface PartnersRequests {
  get_partners: { body: GetPartnersRequestDto; reply: { partners: PartnerView[]; count: number } };
}

declare module '../../core/realtime/user-requests.js' {
  interface UserRequestMap extends PartnersRequests {}
}

@UserGateway()
export class PartnersGateway {
  constructor(private readonly partners: PartnersService) {}

  /** The active partners of a service (seed 000), with the currencies each serves. */
  @UserRequest('get_partners')
  list(@MessageBody() body: GetPartnersRequestDto): RequestResult<{ partners: PartnerView[]; count: number }> {
    const partners = this.partners.listActive(body.service).map(toPartnerView);
    return { message: 'partners retrieved', data: { partners, count: partners.length } };
  }
}
