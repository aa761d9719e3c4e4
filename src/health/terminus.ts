import type { LifecycleState } from '../lifecycle/state.js';
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

/** What {@link terminusHealthChecks} answers from: the runtime, or its registry alone. */
export type TerminusHealthSource =
  | HealthRegistry
  | { readonly health: HealthRegistry; readonly state: LifecycleState };

/**
 * Hands the kit's checks to `@godaddy/terminus` for an app that already uses it: pass the result as
 * terminus's `healthChecks` (with `verbatim: true` added) and its liveness and readiness paths answer
 * from the kit's checks, with the same statuses (in terminus's JSON document, not the kit's
 * `application/health+json` one). Given the runtime, readiness fails from the drain on, as the kit's
 * own `/readyz` does. The kit owns SIGTERM: give terminus a signal it never receives, or terminus
 * closes the server under the drain and exits the process (`signal: 'SIGUSR2'`).
 *
 * @example
 * ```ts
 * createTerminus(server, {
 *   healthChecks: { ...terminusHealthChecks(runtime), verbatim: true },
 *   signal: 'SIGUSR2', // the kit drains on SIGTERM
 * });
 * ```
 */
export function terminusHealthChecks(
  source: TerminusHealthSource,
  options: TerminusHealthCheckOptions = {},
): Record<string, TerminusHealthCheck> {
  const registry = 'health' in source ? source.health : source;
  // Read at each request: the runtime's state moves on.
  const state = 'health' in source ? () => source.state : () => 'ready';
  const endpoint =
    (kind: 'liveness' | 'readiness'): TerminusHealthCheck =>
    async () => {
      const current = state();
      if (kind === 'readiness' && current !== 'ready') {
        throw new TerminusHealthError({
          status: 'fail',
          checks: { 'lifecycle:state': [{ status: 'fail', observedValue: current }] },
        });
      }
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
