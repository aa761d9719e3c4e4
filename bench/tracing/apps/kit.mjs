// apprunner-kit in front of the handler, request line off (the logging bench measures it); tracing
// from the environment: off by default, OpenTelemetry with OTEL_EXPORTER_OTLP_ENDPOINT set.
import { createRequire } from 'node:module';
import { bootstrapAppRunner } from 'apprunner-kit';

const { handler } = createRequire(import.meta.url)('./handler.cjs');

await bootstrapAppRunner({ app: handler, service: 'bench', logging: { requests: false } });
