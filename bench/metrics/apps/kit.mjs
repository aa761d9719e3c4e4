// apprunner-kit in front of a plain listener (no route: the "(none)" record); METRICS=1 turns metrics
// on, flushed every second so that the flushes' cost is in the figure too; METRICS=2 the same without
// the runtime metrics (metrics.runtime: false). Request lines off in all, so that the difference is
// the metrics alone.
import { bootstrapAppRunner } from 'apprunner-kit';
import { handler } from '../../lib/handler.mjs';

await bootstrapAppRunner({
  app: handler,
  logging: { requests: false },
  metrics:
    process.env.METRICS === '1'
      ? { flushIntervalMs: 1_000 }
      : process.env.METRICS === '2'
        ? { flushIntervalMs: 1_000, runtime: false }
        : undefined,
});
