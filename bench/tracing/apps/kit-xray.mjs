// apprunner-kit in front of the plain handler, tracing through the X-Ray SDK to the daemon named by
// AWS_XRAY_DAEMON_ADDRESS (the bench's UDP sink), every request sampled (local rules, rate 1) so
// that it compares with the OpenTelemetry variants, which export every span.
import { createRequire } from 'node:module';
import { bootstrapAppRunner } from 'apprunner-kit';

const { handler } = createRequire(import.meta.url)('./handler.cjs');

await bootstrapAppRunner({
  app: handler,
  service: 'bench',
  logging: { requests: false },
  tracing: {
    mode: 'xray',
    xray: { sampling: 'local', samplingRules: { version: 2, default: { fixed_target: 0, rate: 1 } } },
  },
});
