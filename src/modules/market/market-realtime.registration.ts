import { Injectable, type OnModuleInit } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource } from 'typeorm';
import { sql } from '../../core/database/sql.js';
import { RealtimeDirectory } from '../../core/realtime/realtime-directory.js';
import { MarketData } from './market-data.service.js';
import { OrderBooks } from './order-books.js';

const ORDER_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/**
 * An order's id is its channel: its owner may join it (contract section 5). A socket joining a
 * depth channel is first sent the books of its pairs (`market-depth-snapshot`).
 */
@Injectable()
export class MarketRealtimeRegistration implements OnModuleInit {
  constructor(
    private readonly directory: RealtimeDirectory,
    private readonly marketData: MarketData,
    private readonly books: OrderBooks,
    @InjectDataSource() private readonly db: DataSource,
  ) {}

  onModuleInit(): void {
    this.directory.provideSnapshots(async (channel) => {
      if (channel !== 'market-depth' && !channel.startsWith('market-depth:')) return [];
      const pair = channel.slice('market-depth:'.length);
      const pairs = channel === 'market-depth' ? [...this.books.pairs.values()] : [this.books.pairs.get(pair)!];
      const snapshots = await this.marketData.depths(pairs, channel);
      return snapshots.map((snapshot) => ({ event: 'market-depth-snapshot', seq: snapshot.seq, payload: snapshot }));
    });
    this.directory.addChannelResolver(async (id) => {
      if (!ORDER_ID.test(id)) return null;
      const { rows } = await sql<{ user_id: string }>(this.db, `SELECT user_id FROM orders WHERE id = $1`, [id]);
      return rows[0] ? { ownerId: String(rows[0].user_id) } : null;
    });
  }
}
