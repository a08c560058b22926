// Where this deployment reaches its own HTTP API: the sandbox partners (SANDBOX_URL) and the
// webhook receiver (WEBHOOK_BASE_URL). Unset, both are this instance on 127.0.0.1, at the port it
// actually listens on (PORT=0 picks one at random), or PORT in a process without HTTP (the worker).
import { Injectable } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import type { AddressInfo } from 'node:net';
import { AppConfig } from '../../core/config/app-config.js';

const trimSlash = (url: string) => url.replace(/\/+$/, '');

@Injectable()
export class LocalUrls {
  constructor(
    private readonly config: AppConfig,
    private readonly host: HttpAdapterHost,
  ) {}

  /** Base URL of the sandbox partner endpoint. */
  sandboxUrl(): string {
    return trimSlash(this.config.env.SANDBOX_URL ?? this.self());
  }

  /** Base URL partner webhooks are delivered to. */
  webhookBaseUrl(): string {
    return trimSlash(this.config.env.WEBHOOK_BASE_URL ?? this.self());
  }

  private self(): string {
    return `http://127.0.0.1:${this.listeningPort() ?? this.config.env.PORT}`;
  }

  private listeningPort(): number | undefined {
    const server: unknown = this.host.httpAdapter?.getHttpServer();
    if (!server || typeof (server as { address?: unknown }).address !== 'function') return undefined;
    const address = (server as { address(): AddressInfo | string | null }).address();
    return address && typeof address === 'object' ? address.port : undefined;
  }
}
