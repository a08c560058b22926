// The BullMQ dashboard (bull-board) at /admin/queues, outside the /api/v1 prefix: every queue of
// core/queue/queues.ts, for admins only (a bearer access token with role admin and a live
// session). Failed jobs are seen and retried there.
import { createBullBoard } from '@bull-board/api';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { ExpressAdapter } from '@bull-board/express';
import { getQueueToken } from '@nestjs/bullmq';
import { Injectable, Module, type OnModuleInit } from '@nestjs/common';
import { HttpAdapterHost, ModuleRef } from '@nestjs/core';
import type { Queue } from 'bullmq';
import type { Application, NextFunction, Request, Response } from 'express';
import { AccessTokenService } from '../../core/auth/access-token.service.js';
import { SessionService } from '../../core/auth/session.service.js';
import { errorBody, traceIdOf } from '../../core/errors/http-exception.filter.js';
import { QUEUE_NAMES } from '../../core/queue/queues.js';

export const QUEUE_DASHBOARD_PATH = '/admin/queues';

const BEARER = /^Bearer ([A-Za-z0-9._~+/=-]+)$/i;

@Injectable()
export class QueueDashboard implements OnModuleInit {
  constructor(
    private readonly host: HttpAdapterHost,
    private readonly moduleRef: ModuleRef,
    private readonly tokens: AccessTokenService,
    private readonly sessions: SessionService,
  ) {}

  /** Mounted on Express directly (after Nest's routes, before its not-found handler). */
  onModuleInit(): void {
    const http = this.host.httpAdapter;
    if (!http) return; // no HTTP in this process (the worker)
    const board = new ExpressAdapter();
    board.setBasePath(QUEUE_DASHBOARD_PATH);
    createBullBoard({
      queues: QUEUE_NAMES.map(
        (name) => new BullMQAdapter(this.moduleRef.get<Queue>(getQueueToken(name), { strict: false })),
      ),
      serverAdapter: board,
      options: { uiConfig: { boardTitle: 'cashier queues' } },
    });
    const router = board.getRouter() as Application;
    http.getInstance<Application>().use(QUEUE_DASHBOARD_PATH, this.requireAdmin, router);
  }

  private readonly requireAdmin = (req: Request, res: Response, next: NextFunction): void => {
    this.admit(req).then(
      (verdict) => {
        if (verdict === 'ok') return next();
        const traceId = traceIdOf(req);
        if (verdict === 'forbidden') {
          res.status(403).json(errorBody(traceId, 403, 'FORBIDDEN', 'this action needs the admin role'));
          return;
        }
        res.setHeader('WWW-Authenticate', 'Bearer');
        res.status(401).json(errorBody(traceId, 401, 'UNAUTHORIZED', 'Invalid or expired token'));
      },
      (error: unknown) => next(error),
    );
  };

  private async admit(req: Request): Promise<'ok' | 'unauthorized' | 'forbidden'> {
    const token = BEARER.exec(req.headers.authorization ?? '')?.[1];
    if (!token) return 'unauthorized';
    const claims = await this.tokens.verify(token);
    if (!claims || !(await this.sessions.isActive(claims.sid, claims.sub))) return 'unauthorized';
    return claims.role === 'admin' ? 'ok' : 'forbidden';
  }
}

@Module({ providers: [QueueDashboard] })
export class QueueDashboardModule {}
