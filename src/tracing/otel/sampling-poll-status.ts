import type { Logger } from 'pino';
import { runOutsideRequestContext } from '../../http/context.js';
import { xrayDefaultRule } from './xray-default-rule.js';

/** The X-Ray sampling API calls the `xray` sampler makes, by their paths on the endpoint. */
export type SamplingPoll = 'GetSamplingRules' | 'SamplingTargets';

/** How long the sampler keeps the rules it read last (`@opentelemetry/sampler-aws-xray`'s rule cache). */
export const rulesLifetimeMs = 60 * 60 * 1000;

const defaultRule = `X-Ray's default rule, ${xrayDefaultRule.reservoirPerSecond} trace per second then ${xrayDefaultRule.fixedRate * 100} %`;

/**
 * The least time between two streaks' warnings: an endpoint that refuses one poll in three (a fleet
 * throttled together) would otherwise write a warning and an info line every few polls.
 */
export const streakQuietMs = 10 * 60 * 1000;

/** The longest part of a refusal's body a log line quotes. */
export const detailLength = 200;

/** What went wrong with one poll: the endpoint's answer, or why there was none. */
export type PollFailure =
  | { readonly statusCode: number; readonly detail: string }
  | { readonly error: string; readonly statusCode?: undefined };

/**
 * Logs the `xray` sampler's trouble with its endpoint once per streak: a warning at the first poll
 * refused (an X-Ray API answer other than 200: throttled, access denied) or not answered, saying what
 * sampling does meanwhile; a second warning if the rules read last grow older than
 * {@link rulesLifetimeMs} during the streak (X-Ray's default rule applies from then on); an info line
 * when every poll that failed is answered again — never a line per poll. A streak that begins
 * within {@link streakQuietMs} of the last one warned of is not warned of (nor its end) unless it
 * outlasts that window: the next warning counts those not warned of (`quietStreaks`). No timer: the
 * lines are written as polls end.
 *
 * @example
 * ```ts
 * const status = new SamplingPollStatus(logger, 'http://127.0.0.1:2000');
 * status.answered('GetSamplingRules');
 * status.failed('SamplingTargets', { statusCode: 429, detail: 'Rate exceeded' }); // one warning
 * status.failed('GetSamplingRules', { statusCode: 429, detail: 'Rate exceeded' }); // nothing more
 * status.answered('GetSamplingRules'); // nothing: SamplingTargets still fails
 * status.answered('SamplingTargets'); // one info line
 * ```
 */
export class SamplingPollStatus {
  readonly #logger: Logger;
  readonly #endpoint: string;
  readonly #now: () => number;
  readonly #failing = new Set<SamplingPoll>();
  /** When the rules were last read; `undefined` before the first time. */
  #rulesReadAt: number | undefined;
  #failedPolls = 0;
  #expiryLogged = false;
  /** When a streak was last warned of; `undefined` before the first. */
  #warnedAt: number | undefined;
  /** The current streak was warned of: its end is said too. */
  #streakWarned = false;
  /** Streaks not warned of since the last that was (inside {@link streakQuietMs} of it). */
  #quietStreaks = 0;

  /** `endpoint` names the sampling API in the lines; `now` is the clock (tests move it). */
  constructor(logger: Logger, endpoint: string, now: () => number = Date.now) {
    this.#logger = logger;
    this.#endpoint = endpoint;
    this.#now = now;
  }

  /** `poll` was answered with 200. */
  answered(poll: SamplingPoll): void {
    if (poll === 'GetSamplingRules') this.#rulesReadAt = this.#now();
    if (!this.#failing.delete(poll) || this.#failing.size > 0) return;
    const failedPolls = this.#failedPolls;
    this.#failedPolls = 0;
    this.#expiryLogged = false;
    if (!this.#streakWarned) return;
    this.#streakWarned = false;
    this.#log('info', { failedPolls }, `the X-Ray sampling endpoint ${this.#endpoint} answers again`);
  }

  /** `poll` was refused (`statusCode` other than 200) or not answered (`error`). */
  failed(poll: SamplingPoll, failure: PollFailure): void {
    this.#failedPolls += 1;
    const first = this.#failing.size === 0;
    this.#failing.add(poll);
    // Quiet (within the window of the last warning), a streak is warned of once it outlasts it.
    const quiet = this.#warnedAt !== undefined && this.#now() - this.#warnedAt < streakQuietMs;
    if (first && quiet) this.#quietStreaks += 1;
    else if (first) this.#warnOfStreak(poll, failure);
    else if (!this.#streakWarned && !quiet) {
      this.#quietStreaks -= 1; // this one, counted quiet at its start, is warned of now
      this.#warnOfStreak(poll, failure);
    } else this.#warnOfExpiry();
  }

  #warnOfStreak(poll: SamplingPoll, failure: PollFailure): void {
    this.#warnedAt = this.#now();
    this.#streakWarned = true;
    const quietStreaks = this.#quietStreaks;
    this.#quietStreaks = 0;
    const endpoint = this.#endpoint;
    const what =
      failure.statusCode === undefined
        ? `does not answer ${poll} (${failure.error})`
        : `refuses ${poll} (HTTP ${failure.statusCode})`;
    const fields = {
      ...(failure.statusCode === undefined
        ? { poll, error: failure.error }
        : { poll, statusCode: failure.statusCode, detail: failure.detail.slice(0, detailLength) }),
      ...(quietStreaks > 0 ? { quietStreaks } : {}),
    };
    const readAt = this.#rulesReadAt;
    let effect: string;
    if (readAt === undefined) effect = `${defaultRule}, applies until the rules can be read`;
    else {
      // Either poll may fail first (targets every 10 s, rules every polling_interval): say what both mean.
      const until = readAt + rulesLifetimeMs;
      effect = `while its polls fail, the reservoir quotas X-Ray hands this instance are not renewed (each rule keeps its fixed rate), and the rules read last, at ${iso(readAt)}, apply until ${iso(until)} at the latest, then ${defaultRule}`;
      this.#expiryLogged = this.#now() >= until;
    }
    this.#log(
      'warn',
      fields,
      `the X-Ray sampling endpoint ${endpoint} ${what}: ${effect} (logged once until it answers).${fix(failure)}`,
    );
  }

  #warnOfExpiry(): void {
    const readAt = this.#rulesReadAt;
    if (this.#expiryLogged || readAt === undefined || this.#now() < readAt + rulesLifetimeMs) return;
    this.#expiryLogged = true;
    this.#log(
      'warn',
      { rulesReadAt: iso(readAt) },
      `the X-Ray sampling rules read at ${iso(readAt)} are an hour old, and ${this.#endpoint} still fails: ${defaultRule}, applies until it answers`,
    );
  }

  #log(level: 'info' | 'warn', fields: Record<string, unknown>, msg: string): void {
    const line = { tracing: { samplingRules: this.#endpoint, ...fields } };
    // The sampler's line, whichever request's span its poll happened to follow.
    runOutsideRequestContext(() => this.#logger[level](line, msg));
  }
}

function iso(epochMs: number): string {
  return new Date(epochMs).toISOString();
}

/** What to do about `failure`, with a leading space; empty when the kit cannot tell. */
function fix(failure: PollFailure): string {
  if (failure.statusCode === undefined || failure.statusCode === 404)
    return " Run the X-Ray daemon or the ADOT collector's awsproxy extension there, or set OTEL_TRACES_SAMPLER_ARG=endpoint=<its URL>.";
  const { statusCode, detail } = failure;
  if (statusCode === 401 || statusCode === 403 || /AccessDenied|not authorized/i.test(detail))
    return ' Give the instance role xray:GetSamplingRules and xray:GetSamplingTargets.';
  if (statusCode === 429 || /Throttl/i.test(detail))
    return ' The X-Ray API throttles the calls of every instance of the account and region together.';
  return '';
}
