// What the realtime core needs to know about users, API keys, channel ids and public snapshots,
// supplied by the feature modules that own them (they register at start-up), so the core depends
// on no module.
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

/** A public frame sent to a socket as it joins a channel, before live ones (a depth snapshot). */
export interface SnapshotFrame {
  event: string;
  /** The channel's seq the snapshot stands at: later frames of the channel apply to it. */
  seq: number;
  payload: unknown;
}

/** What a socket joining a public channel is sent first (nothing for most channels). */
export type SnapshotProvider = (channel: string) => Promise<SnapshotFrame[]>;

@Injectable()
export class RealtimeDirectory {
  private userLookup?: (userId: string) => Promise<UserProfile | null>;
  private apiKeyLookup?: (apiKey: string) => Promise<ApiKeyIdentity | null>;
  private readonly resolvers: ChannelResolver[] = [];
  private snapshots?: SnapshotProvider;

  provideUsers(lookup: (userId: string) => Promise<UserProfile | null>): void {
    this.userLookup = lookup;
  }

  provideApiKeys(lookup: (apiKey: string) => Promise<ApiKeyIdentity | null>): void {
    this.apiKeyLookup = lookup;
  }

  addChannelResolver(resolver: ChannelResolver): void {
    this.resolvers.push(resolver);
  }

  provideSnapshots(provider: SnapshotProvider): void {
    this.snapshots = provider;
  }

  snapshotsOf(channel: string): Promise<SnapshotFrame[]> {
    return this.snapshots ? this.snapshots(channel) : Promise.resolve([]);
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
