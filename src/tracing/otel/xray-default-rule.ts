import { type Context, SamplingDecision } from '@opentelemetry/api';
import type { Sampler, SamplingResult } from '@opentelemetry/sdk-trace-base';

const sampled: SamplingResult = Object.freeze({ decision: SamplingDecision.RECORD_AND_SAMPLED });

/** X-Ray's default sampling rule: a reservoir of one trace per second, then 5 % of the rest. */
export const xrayDefaultRule = Object.freeze({ reservoirPerSecond: 1, fixedRate: 0.05 });

/**
 * X-Ray's default sampling rule, applied locally: the first `reservoirPerSecond` traces of each
 * second are recorded, then `fixedRate` of the rest (by trace id, so that every instance a trace
 * crosses decides alike). The root of a parent-based sampler: it decides for new traces only.
 */
export class XrayDefaultRuleSampler implements Sampler {
  readonly #ratio: Sampler;
  readonly #reservoir: number;
  #second = -1;
  #taken = 0;

  /** @param ratioSampler The SDK line's `TraceIdRatioBasedSampler` at the rule's fixed rate. */
  constructor(ratioSampler: Sampler, reservoirPerSecond: number = xrayDefaultRule.reservoirPerSecond) {
    this.#ratio = ratioSampler;
    this.#reservoir = reservoirPerSecond;
  }

  shouldSample(context: Context, traceId: string): SamplingResult {
    const second = Math.floor(Date.now() / 1000);
    if (second !== this.#second) {
      this.#second = second;
      this.#taken = 0;
    }
    if (this.#taken < this.#reservoir) {
      this.#taken += 1;
      return sampled;
    }
    return this.#ratio.shouldSample(context, traceId, '', 0, {}, []);
  }

  toString(): string {
    return `XrayDefaultRule{reservoir=${this.#reservoir}/s, then ${this.#ratio.toString()}}`;
  }
}
