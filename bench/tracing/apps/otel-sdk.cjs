// The OpenTelemetry auto-instrumentation as its docs set it up for X-Ray (App Runner's guide):
// NodeSDK with the HTTP instrumentation, the X-Ray id generator and propagator, a batch span
// processor and the OTLP/HTTP protobuf exporter — loaded with `--require` before the app.
const { NodeSDK } = require('@opentelemetry/sdk-node');
const { HttpInstrumentation } = require('@opentelemetry/instrumentation-http');
const { AWSXRayIdGenerator } = require('@opentelemetry/id-generator-aws-xray');
const { AWSXRayPropagator } = require('@opentelemetry/propagator-aws-xray');
const { BatchSpanProcessor } = require('@opentelemetry/sdk-trace-base');
const { OTLPTraceExporter } = require('@opentelemetry/exporter-trace-otlp-proto');

const sdk = new NodeSDK({
  serviceName: 'bench',
  instrumentations: [new HttpInstrumentation()],
  idGenerator: new AWSXRayIdGenerator(),
  textMapPropagator: new AWSXRayPropagator(),
  spanProcessors: [new BatchSpanProcessor(new OTLPTraceExporter({ url: process.env.SINK_URL }))],
});
sdk.start();
