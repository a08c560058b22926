// Process start-up shared by src/main.ts (ROLE=api|worker|all) and src/worker.ts: validate the
// configuration, provide PostgreSQL and Redis, migrate, build the Nest application for the role,
// and shut down gracefully on SIGTERM/SIGINT. A start-up failure is one line on stderr and exit 1.
import { NestFactory } from '@nestjs/core';
import type { INestApplicationContext } from '@nestjs/common';
import type { NestExpressApplication } from '@nestjs/platform-express';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Logger as PinoNestLogger } from 'nestjs-pino';
import type { Logger } from 'pino';
import { AppModule } from './app.module.js';
import { createAppConfig, type AppConfig } from './core/config/app-config.js';
import { BusinessConfigError, loadBusinessConfig } from './core/config/business-config.js';
import { devSecret } from './core/config/dev-secrets.js';
import { parseEnv, type Env } from './core/config/env.schema.js';
import { runMigrations } from './core/database/migrate.js';
import { configureHttp } from './core/http/configure-http.js';
import { InfrastructureError } from './core/infra/embedded-postgres.js';
import { provideInfrastructure, type Infrastructure } from './core/infra/infrastructure.js';
import { createRootLogger } from './core/logging/logger.js';
import { QUEUE_NAMES } from './core/queue/queues.js';
import { RealtimeIoAdapter } from './core/realtime/realtime-io.adapter.js';
import { WorkerModule } from './worker.module.js';

class StartupError extends Error {}

function fail(line: string): never {
  process.stderr.write(`cashier: ${line}\n`);
  process.exit(1);
}

function loadConfig(env: Env, databaseUrl: string, redisUrl: string): AppConfig {
  let business;
  try {
    business = loadBusinessConfig(env.CONFIG_DIR);
  } catch (error) {
    if (error instanceof BusinessConfigError) throw new StartupError(`invalid configuration: ${error.message}`);
    throw error;
  }
  const jwtSecret = env.JWT_SECRET ?? devSecret(env.DATA_DIR, 'jwt_secret');
  return createAppConfig({ env, databaseUrl, redisUrl, jwtSecret, business });
}

async function createApp(config: AppConfig, logger: Logger): Promise<INestApplicationContext> {
  const { ROLE } = config.env;
  if (ROLE === 'worker') {
    const app = await NestFactory.createApplicationContext(WorkerModule.forRoot(config, logger), { bufferLogs: true });
    app.useLogger(app.get(PinoNestLogger));
    await app.init();
    logger.info({ role: ROLE, queues: QUEUE_NAMES }, 'worker started');
    return app;
  }
  const app = await NestFactory.create<NestExpressApplication>(
    AppModule.forRoot(config, logger, { withWorker: ROLE === 'all' }),
    { bufferLogs: true, bodyParser: false },
  );
  app.useLogger(app.get(PinoNestLogger));
  app.useWebSocketAdapter(new RealtimeIoAdapter(app));
  configureHttp(app, config);
  await app.listen(config.env.PORT, config.env.HOST);
  const address = app.getHttpServer().address() as AddressInfo;
  logger.info({ port: address.port, role: ROLE }, `listening on http://${config.env.HOST}:${address.port}`);
  return app;
}

function httpServerOf(app: INestApplicationContext): Server | undefined {
  return 'getHttpServer' in app ? (app as NestExpressApplication).getHttpServer() : undefined;
}

function handleSignals(app: INestApplicationContext, infra: Infrastructure, env: Env, logger: Logger): void {
  let stopping = false;
  const stop = async (signal: NodeJS.Signals) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'shutting down: no new work accepted, finishing in-flight work');
    const deadline = setTimeout(() => {
      logger.error({ timeout_ms: env.SHUTDOWN_TIMEOUT_MS }, 'graceful shutdown timed out');
      process.exit(1);
    }, env.SHUTDOWN_TIMEOUT_MS);
    deadline.unref();
    // Keep-alive connections become idle once their in-flight response is written; close them
    // as that happens instead of waiting for the keep-alive timeout.
    const server = httpServerOf(app);
    const reaper = server ? setInterval(() => server.closeIdleConnections(), 50) : undefined;
    let code = 0;
    try {
      await app.close();
    } catch (error) {
      code = 1;
      logger.error({ err: error }, 'error while closing the application');
    }
    clearInterval(reaper);
    await infra.stop();
    clearTimeout(deadline);
    logger.info('stopped');
    process.exit(code);
  };
  process.once('SIGTERM', (signal) => void stop(signal));
  process.once('SIGINT', (signal) => void stop(signal));
}

export async function runProcess(forcedRole?: 'worker'): Promise<void> {
  const parsed = parseEnv(forcedRole ? { ...process.env, ROLE: forcedRole } : process.env);
  if (!parsed.ok) fail(parsed.error);
  const env = parsed.env;
  const logger = createRootLogger(env.LOG_LEVEL);
  process.on('unhandledRejection', (reason) => logger.error({ err: reason }, 'unhandled promise rejection'));

  let infra: Infrastructure | undefined;
  try {
    infra = await provideInfrastructure(
      env,
      (line) => logger.info(line),
      (line) => logger.debug(line),
    );
    const config = loadConfig(env, infra.databaseUrl, infra.redisUrl);
    if (env.DATABASE_MIGRATIONS_RUN) {
      const applied = await runMigrations({
        url: infra.databaseUrl,
        poolSize: 1,
        connectTimeoutMs: env.DATABASE_CONNECT_TIMEOUT_MS,
      });
      if (applied.length) logger.info({ migrations: applied }, 'migrations applied');
    }
    const app = await createApp(config, logger);
    handleSignals(app, infra, env, logger);
  } catch (error) {
    await infra?.stop().catch(() => undefined);
    if (error instanceof InfrastructureError || error instanceof StartupError) fail(error.message);
    logger.fatal({ err: error }, 'start-up failed');
    fail(`start-up failed: ${error instanceof Error ? error.message : String(error)}`);
  }
}
