import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { AdminBootstrapService } from './admin-bootstrap.service.js';
import { UsersRealtimeRegistration } from './users-realtime.registration.js';
import { UserEntity } from './user.entity.js';
import { UsersController } from './users.controller.js';
import { UsersService } from './users.service.js';

/** UsersService alone: what modules shared by the API and the worker import to reach users. */
@Module({
  imports: [TypeOrmModule.forFeature([UserEntity])],
  providers: [UsersService],
  exports: [UsersService],
})
export class UsersCoreModule {}

/** The API side: /user routes, the admin bootstrap, who users are to the realtime core. */
@Module({
  imports: [UsersCoreModule],
  controllers: [UsersController],
  providers: [AdminBootstrapService, UsersRealtimeRegistration],
  exports: [UsersCoreModule],
})
export class UsersModule {}
