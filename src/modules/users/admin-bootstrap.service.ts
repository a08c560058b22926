import { Injectable, type OnApplicationBootstrap } from '@nestjs/common';
import { AppConfig } from '../../core/config/app-config.js';
import { UsersService } from './users.service.js';

/** Creates or updates the administrator named by ADMIN_EMAIL / ADMIN_PASSWORD at start-up. */
@Injectable()
export class AdminBootstrapService implements OnApplicationBootstrap {
  constructor(
    private readonly users: UsersService,
    private readonly config: AppConfig,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    const { ADMIN_EMAIL, ADMIN_PASSWORD } = this.config.env;
    if (ADMIN_EMAIL && ADMIN_PASSWORD) await this.users.ensureAdmin(ADMIN_EMAIL, ADMIN_PASSWORD);
  }
}
