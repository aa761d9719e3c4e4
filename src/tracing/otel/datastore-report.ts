import type { Logger } from 'pino';
import {
  datastoreHint,
  forEachInstrumentation,
  instrumentationRegistry,
  loadedDatastoreClients,
} from './instrumentations.js';

/** What bootstrap adds to the tracing start-up line about datastore spans, and the hint after it. */
export interface DatastoreReport {
  /** For the start-up line's `tracing` object; empty when the preload did not run. */
  readonly fields: {
    readonly instrumentations?: string[];
    readonly instrumentationsOff?: string[];
    readonly esmHookError?: string;
  };
  /** Logs the one hint line for loaded clients without spans (OpenTelemetry mode only). */
  hint(): void;
}

/**
 * Puts the instrumentations `apprunner-kit/register` registered to work — on in OpenTelemetry mode,
 * unpatched otherwise, so that X-Ray SDK mode and tracing off pay nothing for them — and says so.
 * Loads nothing: the registry is process-wide state the preload filled in. Nothing here throws.
 */
export function reportDatastoreSpans(otel: boolean, logger: Logger): DatastoreReport {
  const registry = instrumentationRegistry();
  const hint = (): void => {
    if (!otel) return;
    const found = datastoreHint(loadedDatastoreClients(), registry);
    if (found !== undefined) logger[found.level]({ tracing: { datastore: found.fields } }, found.message);
  };
  if (registry.preload === undefined) return { fields: {}, hint };
  const clients = registry.registered.map((entry) => entry.client);
  const failed = forEachInstrumentation((instrumentation) =>
    otel ? instrumentation.enable() : instrumentation.disable(),
  );
  for (const error of failed) {
    logger.warn({ err: error }, `tracing: turning a datastore instrumentation ${otel ? 'on' : 'off'} failed`);
  }
  const esm = registry.esmHookError === undefined ? {} : { esmHookError: registry.esmHookError };
  const fields = otel
    ? { instrumentations: clients, ...esm }
    : { instrumentations: [], instrumentationsOff: clients, ...esm };
  return { fields, hint };
}

/**
 * Hands the kit's tracer provider to the preload's instrumentations, which took the global proxy
 * provider of the `@opentelemetry/api` they require when the preload ran. That proxy follows the
 * kit's registration only when both load one copy of the API: api 1.10 ships an ESM and a CommonJS
 * build, and the kit's ESM build registers its provider on the ESM build's proxy (the backend hands
 * it to the CommonJS one too, see `otherApiCopies`); handing it over here does not depend on that.
 */
export function useTracerProvider(provider: unknown, logger: Logger): void {
  for (const error of forEachInstrumentation((instrumentation) =>
    instrumentation.setTracerProvider(provider),
  )) {
    logger.warn(
      { err: error },
      "tracing: a datastore instrumentation did not take the kit's tracer provider",
    );
  }
}
