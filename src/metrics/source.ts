import type { EmfGroup } from './emf-lines.js';

/**
 * A part that aggregates metrics between flushes. At each flush the publisher asks every source for
 * what it gathered since the last one; the source hands its groups over and starts a new interval.
 */
export interface MetricSource {
  /** Appends this interval's groups to `groups`, then resets for the next interval. */
  collect(groups: EmfGroup[]): void;
}
