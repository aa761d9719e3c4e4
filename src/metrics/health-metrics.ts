import type { HealthCheckReport } from '../health/types.js';
import type { EmfGroup } from './emf-lines.js';
import type { MetricSource } from './source.js';
import { toDimensionValue } from './validation.js';

interface Outcomes {
  runs: number;
  failures: number;
}

/**
 * Health-check outcomes per check: `HealthCheckRuns` and `HealthCheckFailures` (runs whose status
 * was `fail`, or that missed the health budget), with a `HealthCheck` dimension. Fed by the registry
 * with every report an endpoint evaluation returns; concurrent requests share one run and its
 * report, so a report already seen is not counted again. Checks that did not run in an interval
 * (nobody asked their endpoint) write nothing for it.
 */
export class HealthMetrics implements MetricSource {
  readonly #dimensions: Readonly<Record<string, string>>;
  readonly #last = new Map<string, HealthCheckReport>();
  readonly #outcomes = new Map<string, Outcomes>();

  constructor(dimensions: Readonly<Record<string, string>>) {
    this.#dimensions = dimensions;
  }

  /** The registry's report listener. */
  readonly onReport = (name: string, report: HealthCheckReport): void => {
    if (this.#last.get(name) === report) return;
    this.#last.set(name, report);
    let outcomes = this.#outcomes.get(name);
    if (outcomes === undefined) {
      outcomes = { runs: 0, failures: 0 };
      this.#outcomes.set(name, outcomes);
    }
    outcomes.runs++;
    if (report.status === 'fail') outcomes.failures++;
  };

  collect(groups: EmfGroup[]): void {
    for (const [name, outcomes] of this.#outcomes) {
      groups.push({
        dimensions: { ...this.#dimensions, HealthCheck: toDimensionValue(name) },
        metrics: [
          { name: 'HealthCheckRuns', unit: 'Count', value: outcomes.runs },
          { name: 'HealthCheckFailures', unit: 'Count', value: outcomes.failures },
        ],
      });
    }
    this.#outcomes.clear();
  }
}
