// socket.io and outbox metrics, exposed at /metrics with the rest (prom-client default registry).
import { Injectable } from '@nestjs/common';
import { Counter, Gauge } from 'prom-client';
import { metricOnce as once } from '../metrics/metric-once.js';

@Injectable()
export class RealtimeMetrics {
  readonly connections = once(
    'realtime_connections',
    () =>
      new Gauge({
        name: 'realtime_connections',
        help: 'Open socket.io connections on this instance',
        labelNames: ['namespace'],
      }),
  );
  readonly published = once(
    'realtime_events_published_total',
    () =>
      new Counter({ name: 'realtime_events_published_total', help: 'Events committed and put on the realtime bus' }),
  );
  readonly emitted = once(
    'realtime_events_emitted_total',
    () =>
      new Counter({
        name: 'realtime_events_emitted_total',
        help: 'Stream frames written to sockets',
        labelNames: ['namespace'],
      }),
  );
  readonly replayed = once(
    'realtime_events_replayed_total',
    () =>
      new Counter({ name: 'realtime_events_replayed_total', help: 'Stream frames sent from the outbox (since, gaps)' }),
  );
  readonly relayed = once(
    'realtime_events_relayed_total',
    () => new Counter({ name: 'realtime_events_relayed_total', help: 'Committed events the relay had to emit' }),
  );
  readonly refused = once(
    'realtime_refusals_total',
    () =>
      new Counter({ name: 'realtime_refusals_total', help: 'Refused handshakes and requests', labelNames: ['code'] }),
  );
}
