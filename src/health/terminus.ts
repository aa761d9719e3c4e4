import { withoutOutput } from './endpoints.js';
import type { HealthRegistry } from './registry.js';

/** A terminus health check function: resolves when healthy, throws (with `causes`) when not. */
export type TerminusHealthCheck = () => Promise<Record<string, unknown>>;

/** Options of {@link terminusHealthChecks}. */
export interface TerminusHealthCheckOptions {
  /** @default '/healthz' */
  livenessPath?: string;
  /** @default '/readyz' */
  readinessPath?: string;
}

class TerminusHealthError extends Error {
  readonly causes: Record<string, unknown>;
  readonly statusCode = 503;
  readonly statusResponse: Record<string, unknown>;

  constructor(document: Record<string, unknown>) {
    super('health check failed');
    this.name = 'TerminusHealthError';
    this.causes = (document.checks as Record<string, unknown> | undefined) ?? {};
    this.statusResponse = document;
  }
}

/**
 * Hands the registry to `@godaddy/terminus` for an app that already uses it: pass the result as
 * terminus's `healthChecks` (with `verbatim: true` added) and its liveness and readiness paths answer
 * from the kit's checks, with the same status and document.
 *
 * @example
 * ```ts
 * createTerminus(server, { healthChecks: { ...terminusHealthChecks(runtime.health), verbatim: true } });
 * ```
 */
export function terminusHealthChecks(
  registry: HealthRegistry,
  options: TerminusHealthCheckOptions = {},
): Record<string, TerminusHealthCheck> {
  const endpoint =
    (kind: 'liveness' | 'readiness'): TerminusHealthCheck =>
    async () => {
      const evaluation = await registry.evaluate(kind);
      const checks: Record<string, unknown[]> = {};
      for (const [name, report] of Object.entries(evaluation.checks)) checks[name] = [withoutOutput(report)];
      const document = { status: evaluation.status, checks };
      if (evaluation.status === 'fail') throw new TerminusHealthError(document);
      return document;
    };
  return {
    [options.livenessPath ?? '/healthz']: endpoint('liveness'),
    [options.readinessPath ?? '/readyz']: endpoint('readiness'),
  };
}
