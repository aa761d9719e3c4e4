import type { TracingConfig } from '../config/tracing.js';
import type { TracingBackendName } from './tracer.js';

/** Which backend runs, and why: what `tracing.mode` and the environment resolved to. */
export interface TracingPlan {
  readonly backend: TracingBackendName;
  /** Why, in a few words, for the start-up log line. */
  readonly reason: string;
}

/**
 * Resolves `tracing.mode` against the environment. `auto` traces through OpenTelemetry when
 * `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`, `OTEL_EXPORTER_OTLP_ENDPOINT` or `OTEL_TRACES_EXPORTER` is set
 * (unless `OTEL_TRACES_EXPORTER=none` or `OTEL_SDK_DISABLED=true`), else through the X-Ray SDK when
 * `AWS_XRAY_DAEMON_ADDRESS` is set: OpenTelemetry wins when both are, as it is the supported route.
 */
export function resolveTracingMode(
  config: Pick<TracingConfig, 'mode' | 'sdkDisabled' | 'exporter' | 'tracesEndpoint' | 'endpoint'> & {
    /** Set, whether or not the kit can read it. */
    readonly xrayDaemonAddress: unknown;
    /** Where the mode came from (`tracing.mode` when not given). */
    readonly modeSource?: TracingConfig['modeSource'];
  },
): TracingPlan {
  if (config.mode !== 'auto') {
    const from = config.modeSource === 'TRACING_MODE' ? 'TRACING_MODE' : 'tracing.mode';
    return { backend: config.mode, reason: `${from} is "${config.mode}"` };
  }
  if (config.sdkDisabled) return { backend: 'off', reason: 'OTEL_SDK_DISABLED is true' };
  if (config.exporter === 'none') {
    return { backend: 'off', reason: 'OTEL_TRACES_EXPORTER is "none"' };
  }
  const set =
    config.tracesEndpoint !== undefined
      ? 'OTEL_EXPORTER_OTLP_TRACES_ENDPOINT'
      : config.endpoint !== undefined
        ? 'OTEL_EXPORTER_OTLP_ENDPOINT'
        : config.exporter !== undefined
          ? 'OTEL_TRACES_EXPORTER'
          : undefined;
  if (set !== undefined) {
    const over = config.xrayDaemonAddress === undefined ? '' : ' (it wins over AWS_XRAY_DAEMON_ADDRESS)';
    return { backend: 'otel', reason: `${set} is set${over}` };
  }
  if (config.xrayDaemonAddress !== undefined) {
    return { backend: 'xray', reason: 'AWS_XRAY_DAEMON_ADDRESS is set' };
  }
  return {
    backend: 'off',
    reason: 'no OTEL_EXPORTER_OTLP_* endpoint, OTEL_TRACES_EXPORTER or AWS_XRAY_DAEMON_ADDRESS is set',
  };
}
