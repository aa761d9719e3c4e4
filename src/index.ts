/**
 * apprunner-kit: the runtime layer for Node.js web apps on AWS App Runner, ECS and EKS.
 *
 * @packageDocumentation
 */
export { bootstrapAppRunner } from './bootstrap.js';
export type { KitConfig } from './config/config.js';
export { defaults } from './config/config.js';
export { environmentSchema, type LogLevel, logLevels, renderEnvironmentTable } from './config/environment.js';
export type {
  BootstrapOptions,
  FastifyLikeApp,
  HealthOptions,
  KoaLikeApp,
  LoggingOptions,
  NodeRequestListener,
  ServerOptions,
  ShutdownOptions,
  SupportedApp,
} from './config/options.js';
export {
  AdapterUnavailableError,
  AppRunnerKitError,
  type AppRunnerKitErrorOptions,
  ConfigurationError,
  errorClasses,
  InvalidArgumentError,
  ListenError,
  MissingDependencyError,
  UnsupportedAppError,
} from './errors.js';
export {
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
export { type HealthEvaluation, HealthRegistry } from './health/registry.js';
export {
  type TerminusHealthCheck,
  type TerminusHealthCheckOptions,
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
export { getRequestContext, type RequestContext } from './http/context.js';
export type { ShutdownHook, ShutdownHookOptions, ShutdownResult } from './lifecycle/shutdown-coordinator.js';
export type { LifecycleState } from './lifecycle/state.js';
export { type CreateLoggerOptions, createLogger, redactedHeaders } from './logging/logger.js';
export {
  minimumRedactedLength,
  RedactionRegistry,
  redactedText,
  redaction,
} from './logging/redaction.js';
export type { RequestLevels } from './logging/request-line.js';
export type { AppRunnerRuntime } from './runtime.js';
export { parseTraceHeader, type TraceHeader } from './tracing/trace-header.js';
