import { Injectable, type OnModuleInit } from '@nestjs/common';
import { RealtimeDirectory } from '../../core/realtime/realtime-directory.js';
import { ApiKeysService } from './api-keys.service.js';

/** Lets sockets authenticate with an API key (`auth.apiKey`). */
@Injectable()
export class ApiKeysRealtimeRegistration implements OnModuleInit {
  constructor(
    private readonly directory: RealtimeDirectory,
    private readonly apiKeys: ApiKeysService,
  ) {}

  onModuleInit(): void {
    this.directory.provideApiKeys(async (apiKey) => {
      const found = await this.apiKeys.authenticate(apiKey);
      return found ? { keyId: found.keyId, userId: found.userId, plan: found.plan } : null;
    });
  }
}
