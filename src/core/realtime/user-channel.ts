// The one place the realtime core reads a feature's table: a user's private channel id
// (users.channel), for RealtimePublisher.publishToUser/userChannel. It is read here, with plain
// SQL on the caller's transaction, rather than through UsersService, because core imports no
// module (lint-enforced) and because every process publishes to users, the worker included,
// which registers no users module with the core (RealtimeDirectory.provideUsers is API-only).
// The column is part of the realtime contract: the users module owns it and rotates it.
import type { EntityManager } from 'typeorm';
import { sql } from '../database/sql.js';

/** The private channel id of user `userId`, read in `manager`'s transaction; throws if there is no such user. */
export async function userChannelIn(manager: EntityManager, userId: string): Promise<string> {
  const { rows } = await sql<{ channel: string }>(manager, `SELECT channel FROM users WHERE id = $1`, [userId]);
  if (!rows[0]) throw new Error(`no user ${userId} to publish to`);
  return rows[0].channel;
}
