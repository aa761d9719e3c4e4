import type { TracingConfig } from '../config/tracing.js';
import type { TracingBackendName } from './tracer.js';

/** Which backend runs, and why: what `tracing.mode` and the environment resolved to. */
export interface TracingPlan {
  readonly backend: TracingBackendName;
  /** Why, in a few words, for the start-up log line. */
  readonly reason: string;
  /** Something the operator should fix, logged once as a warning. */
  readonly warning: string | undefined;
}

/**
 * Resolves `tracing.mode` against the environment. `auto` traces through OpenTelemetry when
 * `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`, `OTEL_EXPORTER_OTLP_ENDPOINT` or `OTEL_TRACES_EXPORTER` is set
 * (unless `OTEL_TRACES_EXPORTER=none` or `OTEL_SDK_DISABLED=true`). `AWS_XRAY_DAEMON_ADDRESS` alone
 * would select the X-Ray SDK backend, which this version does not have: tracing stays off, with a
 * warning that says how to trace instead.
 */
export function resolveTracingMode(config: TracingConfig): TracingPlan {
  if (config.mode === 'otel')
    return { backend: 'otel', reason: 'tracing.mode is "otel"', warning: undefined };
  if (config.mode === 'off') return { backend: 'off', reason: 'tracing.mode is "off"', warning: undefined };
  if (config.sdkDisabled) return { backend: 'off', reason: 'OTEL_SDK_DISABLED is true', warning: undefined };
  if (config.exporter === 'none') {
    return { backend: 'off', reason: 'OTEL_TRACES_EXPORTER is "none"', warning: undefined };
  }
  const set =
    config.tracesEndpoint !== undefined
      ? 'OTEL_EXPORTER_OTLP_TRACES_ENDPOINT'
      : config.endpoint !== undefined
        ? 'OTEL_EXPORTER_OTLP_ENDPOINT'
        : config.exporter !== undefined
          ? 'OTEL_TRACES_EXPORTER'
          : undefined;
  if (set !== undefined) return { backend: 'otel', reason: `${set} is set`, warning: undefined };
  if (config.xrayDaemonAddress !== undefined) {
    return {
      backend: 'off',
      reason: 'AWS_XRAY_DAEMON_ADDRESS is set, and this version has no X-Ray SDK backend',
      warning:
        'AWS_XRAY_DAEMON_ADDRESS is set, but this version of apprunner-kit traces through OpenTelemetry only: ' +
        'tracing is off. Set OTEL_EXPORTER_OTLP_ENDPOINT (an ADOT collector takes OTLP and sends X-Ray traces) ' +
        'or tracing.mode "otel"; "off" silences this warning.',
    };
  }
  return {
    backend: 'off',
    reason: 'no OTEL_EXPORTER_OTLP_* endpoint or OTEL_TRACES_EXPORTER is set',
    warning: undefined,
  };
}
