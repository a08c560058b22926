// What the realtime core needs to know about users, API keys and channel ids, supplied by the
// feature modules that own them (they register at start-up), so the core depends on no module.
import { Injectable } from '@nestjs/common';

export interface UserProfile {
  channel: string;
  plan: string;
  state: string;
}

export interface ApiKeyIdentity {
  keyId: string;
  userId: string;
  plan: string;
}

/** Who owns a channel id (a user channel, a payment, an order), or null if the id is not one. */
export type ChannelResolver = (id: string) => Promise<{ ownerId: string } | null>;

@Injectable()
export class RealtimeDirectory {
  private userLookup?: (userId: string) => Promise<UserProfile | null>;
  private apiKeyLookup?: (apiKey: string) => Promise<ApiKeyIdentity | null>;
  private readonly resolvers: ChannelResolver[] = [];

  provideUsers(lookup: (userId: string) => Promise<UserProfile | null>): void {
    this.userLookup = lookup;
  }

  provideApiKeys(lookup: (apiKey: string) => Promise<ApiKeyIdentity | null>): void {
    this.apiKeyLookup = lookup;
  }

  addChannelResolver(resolver: ChannelResolver): void {
    this.resolvers.push(resolver);
  }

  findUser(userId: string): Promise<UserProfile | null> {
    if (!this.userLookup) throw new Error('no user lookup registered with the realtime directory');
    return this.userLookup(userId);
  }

  authenticateApiKey(apiKey: string): Promise<ApiKeyIdentity | null> {
    if (!this.apiKeyLookup) return Promise.resolve(null);
    return this.apiKeyLookup(apiKey);
  }

  async ownerOf(channelId: string): Promise<{ ownerId: string } | null> {
    for (const resolve of this.resolvers) {
      const owner = await resolve(channelId);
      if (owner) return owner;
    }
    return null;
  }
}
