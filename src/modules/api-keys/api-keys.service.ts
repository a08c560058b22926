// API keys for data-stream clients (contract section 2, seed 003): random 256-bit secrets,
// stored hashed, carrying the plan whose limits apply to their connections.
import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { IsNull, type Repository } from 'typeorm';
import { announceRevoked } from '../../core/auth/revocation.js';
import { sql } from '../../core/database/sql.js';
import { RedisService } from '../../core/redis/redis.service.js';
import { DomainError } from '../../core/errors/domain-error.js';
import { newSecretToken, newUuid, sha256 } from '../../shared/ids.js';
import { UsersService } from '../users/users.service.js';
import { ApiKeyEntity } from './api-key.entity.js';

const KEY_PREFIX = 'ck_';
const KEY_FORMAT = /^ck_[A-Za-z0-9_-]{43}$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

export interface ApiKeyView {
  id: string;
  prefix: string;
  plan: string;
  created_at: string;
  last_used_at: string | null;
}

export interface ApiKeyPrincipal {
  keyId: string;
  userId: string;
  plan: string;
}

const toView = (key: ApiKeyEntity): ApiKeyView => ({
  id: key.id,
  prefix: key.prefix,
  plan: key.plan,
  created_at: key.createdAt.toISOString(),
  last_used_at: key.lastUsedAt?.toISOString() ?? null,
});

@Injectable()
export class ApiKeysService {
  constructor(
    @InjectRepository(ApiKeyEntity) private readonly keys: Repository<ApiKeyEntity>,
    private readonly users: UsersService,
    private readonly redis: RedisService,
  ) {}

  /** Issues a key on the user's plan; the secret is returned only here. */
  async issue(userId: string): Promise<{ id: string; api_key: string; plan: string }> {
    const user = await this.users.findById(userId);
    if (!user) throw DomainError.unauthorized();
    const apiKey = KEY_PREFIX + newSecretToken();
    const key = await this.keys.save(
      this.keys.create({
        id: newUuid(),
        userId,
        prefix: apiKey.slice(0, 10),
        keyHash: sha256(apiKey),
        plan: user.plan,
      }),
    );
    return { id: key.id, api_key: apiKey, plan: key.plan };
  }

  async list(userId: string): Promise<ApiKeyView[]> {
    const keys = await this.keys.find({ where: { userId, revokedAt: IsNull() }, order: { createdAt: 'ASC' } });
    return keys.map(toView);
  }

  async revoke(userId: string, id: string): Promise<void> {
    const notFound = new DomainError('NOT_FOUND', 'api key not found', { field: 'id' });
    if (!UUID.test(id)) throw notFound;
    const result = await this.keys.update({ id, userId, revokedAt: IsNull() }, { revokedAt: new Date() });
    if (!result.affected) throw notFound;
    await announceRevoked(this.redis, { kind: 'api_key', apiKeyId: id, userId, reason: 'revoked' });
  }

  /** The owner and plan of a live key, or null. */
  async authenticate(apiKey: string): Promise<ApiKeyPrincipal | null> {
    if (!KEY_FORMAT.test(apiKey)) return null;
    const { rows } = await sql<{ id: string; user_id: string; plan: string }>(
      this.keys.manager,
      `UPDATE api_keys SET last_used_at = now() WHERE key_hash = $1 AND revoked_at IS NULL RETURNING id, user_id, plan`,
      [sha256(apiKey)],
    );
    const row = rows[0];
    return row ? { keyId: row.id, userId: String(row.user_id), plan: row.plan } : null;
  }
}
