// User notifications: stored, announced as `notice`, with the unread count kept current through
// `notification_update`; and the admin's test push of any event (seed 002).
import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { In, IsNull, type DataSource, type EntityManager } from 'typeorm';
import { DomainError } from '../../core/errors/domain-error.js';
import { RealtimePublisher } from '../../core/realtime/realtime.publisher.js';
import { AuditService } from '../audit/audit.service.js';
import { UsersService } from '../users/users.service.js';
import { NotificationEntity } from './notification.entity.js';
import './notifications.events.js';
import { Transactions } from '../../core/database/transactions.js';

export interface NotificationView {
  id: number;
  message: string;
  created_at: string;
  read_at: string | null;
}

export interface NotificationsPage {
  notifications: NotificationView[];
  unread_count: number;
  total: number;
}

export interface NotificationsMarked {
  unread_count: number;
  marked: number;
}

const MAX_TEST_PAYLOAD_BYTES = 16 * 1024;

@Injectable()
export class NotificationsService {
  constructor(
    private readonly transactions: Transactions,
    @InjectDataSource() private readonly db: DataSource,
    private readonly publisher: RealtimePublisher,
    private readonly audit: AuditService,
    private readonly users: UsersService,
  ) {}

  /** Stores a notification for a user and announces it, inside the caller's transaction. */
  async notify(manager: EntityManager, userId: string, message: string): Promise<void> {
    await manager.insert(NotificationEntity, { userId, message });
    const channel = await this.publisher.userChannel(manager, userId);
    this.publisher.publish(manager, channel, 'notice', { message });
    this.publisher.publish(manager, channel, 'notification_update', {
      unread_count: await this.unread(manager, userId),
    });
  }

  async send(actorId: string, userId: string, message: string): Promise<void> {
    await this.transactions.run(async (tx) => {
      await this.users.requireExists(tx, userId);
      await this.notify(tx, userId, message);
      await this.audit.record(tx, {
        actorId,
        action: 'notification.send',
        target: `user:${userId}`,
        details: { message },
      });
    });
  }

  async list(userId: string, limit = 20, offset = 0): Promise<NotificationsPage> {
    const [rows, total] = await this.db.manager.findAndCount(NotificationEntity, {
      where: { userId },
      order: { id: 'DESC' },
      take: limit,
      skip: offset,
    });
    return {
      notifications: rows.map((n) => ({
        id: Number(n.id),
        message: n.message,
        created_at: n.createdAt.toISOString(),
        read_at: n.readAt?.toISOString() ?? null,
      })),
      unread_count: await this.unread(this.db.manager, userId),
      total,
    };
  }

  /** Marks the given notifications (or all) read and announces the new unread count. */
  async markRead(userId: string, ids?: number[]): Promise<NotificationsMarked> {
    return this.transactions.run(async (tx) => {
      const where = { userId, readAt: IsNull(), ...(ids ? { id: In(ids.map(String)) } : {}) };
      const { affected } = await tx.update(NotificationEntity, where, { readAt: new Date() });
      const unread = await this.unread(tx, userId);
      if (affected) await this.publisher.publishToUser(tx, userId, 'notification_update', { unread_count: unread });
      return { unread_count: unread, marked: affected ?? 0 };
    });
  }

  /** Pushes any event with any payload on a user's channel (admin diagnostics, seed 002). */
  async pushTest(
    actorId: string,
    userId: string,
    event: string,
    payload: Record<string, unknown>,
  ): Promise<{ channel: string }> {
    if (Buffer.byteLength(JSON.stringify(payload)) > MAX_TEST_PAYLOAD_BYTES) {
      throw DomainError.validation('payload', `payload must be at most ${MAX_TEST_PAYLOAD_BYTES} bytes of JSON`);
    }
    return this.transactions.run(async (tx) => {
      await this.users.requireExists(tx, userId);
      const channel = await this.publisher.userChannel(tx, userId);
      this.publisher.publishUnchecked(tx, channel, event, payload);
      await this.audit.record(tx, {
        actorId,
        action: 'notification.test',
        target: `user:${userId}`,
        details: { event },
      });
      return { channel };
    });
  }

  private async unread(manager: EntityManager, userId: string): Promise<number> {
    return manager.count(NotificationEntity, { where: { userId, readAt: IsNull() } });
  }
}
