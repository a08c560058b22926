// prom-client's default registry refuses a second metric of the same name; providers built more
// than once (tests make several applications in one process) share the first.
import { register, type Metric } from 'prom-client';

export function metricOnce<T extends Metric>(name: string, create: () => T): T {
  return (register.getSingleMetric(name) as T | undefined) ?? create();
}
