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
export { livenessPath, readinessPath } from './health/endpoints.js';
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
