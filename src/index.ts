/**
 * apprunner-kit: the runtime layer for Node.js web apps on AWS App Runner, ECS and EKS.
 *
 * @packageDocumentation
 */

// pino's types the kit's API hands out, so a consumer's declarations can name them through the kit
// (where pino is not installed beside the app, as with pnpm).
export type { DestinationStream, Logger } from 'pino';
export type { AdapterKit, AnyAppAdapter, AppAdapter, InstalledApp } from './adapters/adapter.js';
export { type ExpressLikeApp, expressAdapter } from './adapters/express.js';
export { type FastifyLikeApp, fastifyAdapter } from './adapters/fastify.js';
export type { HealthEndpoints, LoadShedder, RequestScope } from './adapters/kit-parts.js';
export { type KoaLikeApp, koaAdapter } from './adapters/koa.js';
export { nodeAdapter } from './adapters/node.js';
export { bootstrapAppRunner } from './bootstrap.js';
export type { ClusterOptions } from './cluster/options.js';
export { type ClusterHandle, runCluster } from './cluster/primary.js';
export type { KitConfig } from './config/config.js';
export { defaults } from './config/config.js';
export {
  type EnvironmentVariable,
  environmentSchema,
  type LogLevel,
  logLevels,
  renderEnvironmentTable,
} from './config/environment.js';
export type { LoggingConfig } from './config/logging.js';
export type { MetricsConfig } from './config/metrics.js';
export type {
  BootstrapOptions,
  HealthOptions,
  LoadSheddingOptions,
  LoggingOptions,
  MetricsOptions,
  NodeRequestListener,
  ServerOptions,
  ShutdownOptions,
  ShutdownSignal,
  SupportedApp,
  TracingOptions,
} from './config/options.js';
export type {
  BatchSettings,
  IgnoredSdkSetting,
  OtelSdkSettings,
  SdkNumberSetting,
  SpanLimitSettings,
} from './config/otel-sdk.js';
export type { QuietRequests, RequestMatch } from './config/request-match.js';
export type { ResourceAttributesText } from './config/resource-attributes.js';
export type {
  CloudPlatform,
  DaemonEndpoint,
  TracePropagator,
  TracingConfig,
  TracingMode,
  XrayDaemonAddress,
  XrayRulesSource,
} from './config/tracing.js';
export {
  AppRunnerKitError,
  type AppRunnerKitErrorOptions,
  ConfigurationError,
  errorClasses,
  FastifyBootingError,
  InvalidArgumentError,
  ListenError,
  MissingDependencyError,
  SecretAccessDeniedError,
  type SecretErrorOptions,
  SecretFetchError,
  SecretNotDeclaredError,
  SecretNotFoundError,
  SecretReferenceError,
  SecretsStartupError,
  SecretTimeoutError,
  SecretTransformError,
  StartAbortedError,
  UnsupportedAppError,
} from './errors.js';
export type { HealthEndpointSettings } from './health/endpoints.js';
export { awsProbe, type CommandSender } from './health/probes/aws.js';
export {
  type DatabaseProbeOptions,
  mysqlProbe,
  type PingableClient,
  postgresProbe,
  type QueryableClient,
  redisProbe,
} from './health/probes/datastores.js';
export {
  type EventLoopDelayProbeOptions,
  type EventLoopUtilizationProbeOptions,
  eventLoopDelayProbe,
  eventLoopUtilizationProbe,
  type StoppableCheck,
} from './health/probes/event-loop.js';
export { type HttpProbeOptions, httpProbe } from './health/probes/http.js';
export { type MemoryProbeOptions, memoryProbe } from './health/probes/memory.js';
export { type TcpProbeOptions, tcpProbe } from './health/probes/tcp.js';
export { type HealthEvaluation, HealthRegistry, type HealthRegistrySettings } from './health/registry.js';
export {
  type TerminusHealthCheck,
  type TerminusHealthCheckOptions,
  type TerminusHealthSource,
  terminusHealthChecks,
} from './health/terminus.js';
export type {
  HealthCheck,
  HealthCheckKind,
  HealthCheckOptions,
  HealthCheckOutcome,
  HealthCheckReport,
  HealthCheckResult,
  HealthStatus,
} from './health/types.js';
export {
  getRequestContext,
  type MutableRequestContext,
  type RequestContext,
  type RequestFieldValue,
} from './http/context.js';
export type { LoadShedderSettings, LoadStats, ShedResponder } from './http/load-shedder.js';
export { reportRequestError } from './http/request-errors.js';
export { addRequestFields, requestFieldLimits } from './http/request-fields.js';
export { setRequestRoute } from './http/request-route.js';
export type { RequestFinishHook, RequestStartHook, RouteResolver } from './http/request-scope.js';
export type { ShutdownHook, ShutdownHookOptions, ShutdownResult } from './lifecycle/shutdown-coordinator.js';
export type { LifecycleState } from './lifecycle/state.js';
export {
  flushRequestLogs,
  type HeldLevel,
  type LogBufferOptions,
  logBufferBytes,
} from './logging/held-lines.js';
export type { MessageKey } from './logging/line-limit.js';
export { type CreateLoggerOptions, createLogger, redactedHeaders } from './logging/logger.js';
export {
  minimumRedactedLength,
  RedactionRegistry,
  redactedText,
  redaction,
} from './logging/redaction.js';
export type { RequestLevels } from './logging/request-line.js';
export type { MetricDimensions, MetricOptions, RuntimeMetrics } from './metrics/app-metrics.js';
export { emfLimits } from './metrics/limits.js';
export type { MetricsDestination } from './metrics/publisher.js';
export { type RuntimeMetricName, runtimeMetricNames } from './metrics/runtime-metrics.js';
export { isMetricUnit, type MetricUnit, metricUnits } from './metrics/units.js';
export type { AppRunnerRuntime } from './runtime.js';
export type { FetchedSecret, SecretProvider } from './secrets/provider.js';
export type { AwsClientHook } from './secrets/providers/aws-client.js';
export type { AwsClientLike } from './secrets/providers/secrets-manager.js';
export { parseSecretReference, type SecretReference } from './secrets/reference.js';
export type { SecretEntryInfo } from './secrets/secret-cache.js';
export { createSecretStore, SecretStore, type SecretStoreOptions } from './secrets/secret-store.js';
export type { SecretDeclaration, SecretOptions } from './secrets/settings.js';
export {
  formatTraceHeader,
  newTraceId,
  parseTraceContext,
  parseTraceHeader,
  type TraceHeader,
  type TraceHeaderFields,
} from './tracing/trace-header.js';
export type {
  AwsBuildArguments,
  AwsBuildHandler,
  AwsBuildMiddleware,
  AwsBuildMiddlewareOptions,
  AwsFinalizeRequestMiddleware,
  AwsFinalizeRequestMiddlewareOptions,
  AwsHandlerContext,
  AwsHandlerOutput,
  InstrumentableAwsClient,
  RuntimeTracer,
  SpanAttributes,
  SpanAttributeValue,
  SpanHandle,
  SpanKindName,
  SpanOptions,
  TracingBackendName,
} from './tracing/tracer.js';
export type {
  XrayConfig,
  XraySamplingMode,
  XraySamplingRule,
  XraySamplingRules,
  XrayTracingOptions,
} from './tracing/xray/options.js';
