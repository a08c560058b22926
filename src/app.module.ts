import { Module, type DynamicModule } from '@nestjs/common';
import type { Logger } from 'pino';
import { HttpAuthModule } from './core/auth/auth-core.module.js';
import type { AppConfig } from './core/config/app-config.js';
import { CoreModule } from './core/core.module.js';
import { HealthModule } from './core/health/health.module.js';
import { RealtimeDocsModule } from './core/http/realtime-docs.module.js';
import { MetricsModule } from './core/metrics/metrics.module.js';
import { RealtimeGatewaysModule } from './core/realtime/realtime.module.js';
import { AccountsApiModule } from './modules/accounts/accounts.module.js';
import { AdminModule } from './modules/admin/admin.module.js';
import { ApiKeysModule } from './modules/api-keys/api-keys.module.js';
import { AuthModule } from './modules/auth/auth.module.js';
import { FeesModule } from './modules/fees/fees.module.js';
import { FxModule } from './modules/fx/fx.module.js';
import { LedgerApiModule } from './modules/ledger/ledger.module.js';
import { MarketModule } from './modules/market/market.module.js';
import { NotificationsModule } from './modules/notifications/notifications.module.js';
import { PartnersModule } from './modules/partners/partners.module.js';
import { SandboxPartnerModule } from './modules/partners/sandbox/sandbox-partner.module.js';
import { PaymentsModule } from './modules/payments/payments.module.js';
import { QueueDashboardModule } from './modules/queue-dashboard/queue-dashboard.module.js';
import { SettingsModule } from './modules/settings/settings.module.js';
import { TransfersModule } from './modules/transfers/transfers.module.js';
import { UsersModule } from './modules/users/users.module.js';
import { VerificationModule } from './modules/verification/verification.module.js';
import { ProcessorsModule } from './worker.module.js';

/** The API process (HTTP + socket.io); with `withWorker` also the job processors (ROLE=all). */
@Module({})
export class AppModule {
  static forRoot(config: AppConfig, logger: Logger, options: { withWorker: boolean }): DynamicModule {
    return {
      module: AppModule,
      imports: [
        CoreModule.forRoot(config, logger),
        HttpAuthModule,
        HealthModule,
        MetricsModule,
        RealtimeDocsModule,
        RealtimeGatewaysModule,
        UsersModule,
        AuthModule,
        ApiKeysModule,
        NotificationsModule,
        SettingsModule,
        AdminModule,
        AccountsApiModule,
        LedgerApiModule,
        FeesModule,
        FxModule,
        TransfersModule,
        VerificationModule,
        PartnersModule,
        // The sandbox partners play real partners outside production only (contract section 6).
        ...(config.env.NODE_ENV === 'production' ? [] : [SandboxPartnerModule]),
        QueueDashboardModule,
        PaymentsModule,
        MarketModule,
        ...(options.withWorker ? [ProcessorsModule] : []),
      ],
    };
  }
}
