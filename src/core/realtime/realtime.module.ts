import { Global, Module } from '@nestjs/common';
import { ChannelDelivery } from './channel-delivery.service.js';
import { OutboxStore } from './outbox.store.js';
import { RealtimeAdminController } from './realtime-admin.controller.js';
import { RealtimeBus } from './realtime-bus.js';
import { RealtimeConnections } from './realtime-connections.service.js';
import { RealtimeControl } from './realtime-control.js';
import { RealtimeHandshake } from './realtime-handshake.js';
import { RequestGate } from './request-gate.js';
import { RealtimeDirectory } from './realtime-directory.js';
import { RealtimeLimits } from './realtime-limits.service.js';
import { PublicChannelsGateway, UserChannelsGateway } from './realtime.gateways.js';
import { RealtimeMetrics } from './realtime.metrics.js';
import { RealtimePublisher } from './realtime.publisher.js';
import { PaymentUpdatesController } from './plain/payment-updates.controller.js';
import { PaymentUpdatesService } from './plain/payment-updates.service.js';
import { PlainWebSockets } from './plain/plain-websockets.js';
import { RealtimeDiagnostics } from './realtime-diagnostics.js';
import { SendBudget } from './send-budget.js';
import { SocketEvictions } from './socket-evictions.js';
import { SocketExpiry } from './socket-expiry.js';

const PUBLISHING = [
  OutboxStore,
  RealtimeBus,
  RealtimePublisher,
  RealtimeMetrics,
  RealtimeDirectory,
  RealtimeLimits,
  RealtimeControl,
];

/** Publishing and socket control (every process): the outbox, the bus, what modules fill in. */
@Global()
@Module({ providers: PUBLISHING, exports: PUBLISHING })
export class RealtimeCoreModule {}

/** The socket.io side (API processes): gateways, per-socket delivery, connection life, admin. */
@Module({
  controllers: [RealtimeAdminController, PaymentUpdatesController],
  providers: [
    PlainWebSockets,
    RealtimeDiagnostics,
    PaymentUpdatesService,
    SendBudget,
    ChannelDelivery,
    RealtimeHandshake,
    RequestGate,
    SocketExpiry,
    RealtimeConnections,
    SocketEvictions,
    UserChannelsGateway,
    PublicChannelsGateway,
  ],
})
export class RealtimeGatewaysModule {}
