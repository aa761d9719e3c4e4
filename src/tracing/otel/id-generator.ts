import type { IdGenerator } from '@opentelemetry/sdk-trace-base';
import { newHexTraceId, newSpanId } from '../trace-header.js';

/**
 * Trace ids X-Ray accepts: the first 32 bits are the epoch seconds (X-Ray refuses traces more than
 * 30 days old or in the future), the other 96 random. OpenTelemetry holds them as 32 hex digits;
 * the kit shows them in X-Ray form.
 */
export class XrayIdGenerator implements IdGenerator {
  #pinned: string | undefined;

  /**
   * Makes the next trace id `hexTraceId`: a caller that sent `Root=` without `Parent=` keeps its
   * trace, though OpenTelemetry has no parent span to take the id from. Set right before the span
   * starts and cleared right after (both synchronous), so no other span can take it.
   */
  pin(hexTraceId: string | undefined): void {
    this.#pinned = hexTraceId;
  }

  generateTraceId(): string {
    const pinned = this.#pinned;
    if (pinned !== undefined) {
      this.#pinned = undefined;
      return pinned;
    }
    return newHexTraceId();
  }

  generateSpanId(): string {
    return newSpanId();
  }
}
