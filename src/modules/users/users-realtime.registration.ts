import { Injectable, type OnModuleInit } from '@nestjs/common';
import { RealtimeDirectory } from '../../core/realtime/realtime-directory.js';
import { UsersService } from './users.service.js';

const USER_CHANNEL = /^[0-9a-f]{32}$/;

/** Tells the realtime core who users are and which channel ids are user channels. */
@Injectable()
export class UsersRealtimeRegistration implements OnModuleInit {
  constructor(
    private readonly directory: RealtimeDirectory,
    private readonly users: UsersService,
  ) {}

  onModuleInit(): void {
    this.directory.provideUsers(async (userId) => {
      const user = await this.users.findById(userId);
      return user ? { channel: user.channel, plan: user.plan, state: user.state } : null;
    });
    this.directory.addChannelResolver(async (id) => {
      if (!USER_CHANNEL.test(id)) return null;
      const user = await this.users.findByChannel(id);
      return user ? { ownerId: user.id } : null;
    });
  }
}
