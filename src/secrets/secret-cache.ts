import { channel } from 'node:diagnostics_channel';
import { performance } from 'node:perf_hooks';
import type { Logger } from 'pino';
import {
  AppRunnerKitError,
  SecretAccessDeniedError,
  SecretFetchError,
  SecretNotFoundError,
  SecretTimeoutError,
  SecretTransformError,
} from '../errors.js';
import { runOutsideRequestContext } from '../http/context.js';
import { abortAfter, withTimeout } from '../internal/timers.js';
import { maxRetiredValues, minimumRedactedLength, type RedactionRegistry } from '../logging/redaction.js';
import { jsonSecretFields, maxMaskedJsonFields } from './json-fields.js';
import type { FetchedSecret, SecretProvider } from './provider.js';
import type { SecretReference } from './reference.js';

/** The diagnostics channel a failed secret fetch is published on (the metrics count it). */
export const secretFetchFailedChannelName = 'apprunner-kit:secrets:fetch-failed';

/** What {@link secretFetchFailedChannelName} publishes: which reference, and whether a value was cached. */
export interface SecretFetchFailedMessage {
  readonly reference: string;
  /** Failed fetches in a row. */
  readonly failures: number;
  /** A value was cached: this was a refresh, and the cached value is still served. */
  readonly cached: boolean;
}

const fetchFailed = channel(secretFetchFailedChannelName);

/**
 * The kit error for a failed fetch of `reference` (its raw text): a kit error as it is, anything else
 * a {@link SecretFetchError} with the reference before its message.
 */
export function toSecretError(reference: string, error: unknown): AppRunnerKitError {
  if (error instanceof AppRunnerKitError) return error;
  if ((error as Error | undefined)?.name === 'TimeoutError') {
    // The cache's own bound (fetchTimeoutMs), reached by a provider that did not answer.
    return new SecretTimeoutError(
      `${reference}: ${(error as Error).message} (secretOptions.fetchTimeoutMs)`,
      {
        reference,
        cause: error,
      },
    );
  }
  return new SecretFetchError(`${reference}: ${(error as Error)?.message ?? String(error)}`, {
    reference,
    cause: error,
  });
}

/** Cache-wide settings, from `secretOptions`. */
export interface SecretCacheSettings {
  /** Time a value is fresh. */
  readonly ttlMs: number;
  /** Most entries kept; the least recently used of those not declared at start-up go first. */
  readonly maxEntries: number;
  /** First wait after a failed refresh; doubles with each failure in a row. */
  readonly backoffBaseMs: number;
  /**
   * First wait after a failure about the value itself (not found, access denied, not transformable):
   * a state that a person changes, not one that passes in a second, so the fleet does not spend its
   * shared request quota asking again (a missing optional parameter, read every second by every
   * instance). Doubles as the other, within `backoffMaxMs`.
   * @default 30000
   */
  readonly ownFailureBackoffBaseMs?: number;
  /** Longest wait between refresh attempts. */
  readonly backoffMaxMs: number;
  /** Bound on one fetch (background refreshes and `resolve`). */
  readonly fetchTimeoutMs: number;
  /**
   * Least time between two calls of {@link SecretCache.refresh} for one value that fetch: within it,
   * a refresh gets the last one's result (an app that refreshes on every authentication failure would
   * otherwise call AWS once per failing request).
   * @default 1000
   */
  readonly minRefreshIntervalMs?: number;
}

/** Per-reference options. */
export interface EntryOptions {
  /** Time this value is fresh; the cache's `ttlMs` when absent. */
  readonly ttlMs?: number | undefined;
  /** Never evicted (declared at start-up). */
  readonly pinned?: boolean | undefined;
}

interface Entry {
  readonly reference: SecretReference;
  /** Its provider's {@link SecretProvider.callKey}: entries with the same one are fetched together. */
  readonly callKey: string | undefined;
  ttlMs: number;
  pinned: boolean;
  fetched: FetchedSecret | undefined;
  /**
   * The values held in the redaction registry for `fetched`: its text and, for a JSON secret, its
   * string fields (parsed once per fetch, never per read). Released, all of them, when it goes.
   */
  masked: readonly string[];
  /** When the value was fetched (`performance.now()`). */
  fetchedAt: number;
  /** When the call that brought the value was sent: a value from a call sent earlier is older. */
  fetchedFrom: number;
  /** When {@link SecretCache.invalidate} was last called: a call sent before brings a stale value. */
  invalidatedAt: number;
  expiresAt: number;
  inflight: Promise<FetchedSecret> | undefined;
  /** A `refresh` waiting for the fetches under way to end, before its own call. */
  queued?: Promise<FetchedSecret> | undefined;
  /** The last `refresh` that fetched: when, and its outcome, shared within the minimum interval. */
  lastRefresh?: { readonly at: number; readonly result: Promise<FetchedSecret> } | undefined;
  failures: number;
  /**
   * The last failure was about this value (not found, access denied, not transformable), not about
   * the call (throttling, a timeout, a server error): it is refreshed alone until it has a value.
   */
  ownFailure: boolean;
  retryAt: number;
  lastUsed: number;
  /**
   * Read since it was fetched. A value joins another's refresh when it was declared (pinned) or read
   * since: one stored for masking only, or resolved once, is not fetched again for nobody.
   */
  read: boolean;
}

/** What the cache knows about one reference, without its value. */
export interface SecretEntryInfo {
  readonly version: string | undefined;
  /** The value is past its TTL (a refresh is due or failing). */
  readonly stale: boolean;
  /** Failed refreshes in a row. */
  readonly failures: number;
}

/** The share of the TTL that jitter may take off: refreshes of a fleet spread over a fifth of it. */
export const refreshJitterShare = 0.2;

/**
 * When a value fetched now is refreshed: the TTL shortened by `jitter` (0 to 1) times
 * {@link refreshJitterShare}, so that a fleet started together does not refresh together (500
 * instances reading 2 `GetParameters` batches each, with a 5-minute TTL: 1,000 calls over 60 s, 17 a
 * second, under SSM's 40). One draw for values fetched together: they fall due together and are
 * refreshed in one batch again (one draw each would bring each batch to the earliest of them, near
 * 0.8 of the TTL on every instance of the fleet). Each refresh draws again, so a fleet's refreshes
 * spread further with every TTL.
 */
export function refreshAfterMs(ttlMs: number, jitter: number = Math.random()): number {
  return ttlMs * (1 - jitter * refreshJitterShare);
}

/** How long past `fetchTimeoutMs` a provider's own rejection is waited for: its error says more. */
const abortGraceMs = 100;

/**
 * The one cache under every provider: TTL with jitter on a monotonic clock, stale-while-revalidate
 * on access (no timer: App Runner throttles idle CPU), stale-if-error with exponential backoff and a
 * cap (logged once per failure streak), single-flight, a bound on entries, and the registration of
 * every sensitive value with the log redaction registry. Providers only fetch.
 */
export class SecretCache {
  readonly #settings: SecretCacheSettings;
  readonly #providerFor: (reference: SecretReference) => SecretProvider;
  readonly #logger: Logger | undefined;
  readonly #redaction: RedactionRegistry;
  /**
   * References said to have a value (or JSON fields) too short to mask: said once each, not at every
   * refresh.
   */
  readonly #unmaskable = new Set<string>();
  /** References said to have more JSON fields than are masked: said once each. */
  readonly #overBound = new Set<string>();
  /** The registry dropped retired values for room: said once. */
  #retiredDropped = false;
  readonly #entries = new Map<string, Entry>();
  /** Entries by call key (those with one): the siblings {@link SecretCache.#start} fetches along. */
  readonly #byCallKey = new Map<string, Set<Entry>>();

  constructor(
    settings: SecretCacheSettings,
    providerFor: (reference: SecretReference) => SecretProvider,
    redaction: RedactionRegistry,
    logger?: Logger,
  ) {
    this.#settings = settings;
    this.#providerFor = providerFor;
    this.#redaction = redaction;
    this.#logger = logger;
  }

  /** Entries held. */
  get size(): number {
    return this.#entries.size;
  }

  /**
   * The cached value, at once; when it is past its TTL, starts one background refresh and still
   * returns it (stale-while-revalidate). `undefined` when nothing was fetched yet; for a value whose
   * first fetch failed ({@link remember}), a new background attempt starts past its backoff.
   */
  peek(reference: SecretReference): FetchedSecret | undefined {
    const entry = this.#entries.get(reference.raw);
    if (entry === undefined) return undefined;
    const now = performance.now();
    entry.lastUsed = now;
    entry.read = true;
    if (entry.inflight !== undefined || now < entry.retryAt) return entry.fetched;
    if (entry.fetched !== undefined && now >= entry.expiresAt) {
      this.#refreshDue(entry, now).catch(() => {}); // logged in #failed; the caller keeps the cached value
    } else if (entry.fetched === undefined && entry.failures > 0) {
      runOutsideRequestContext(() => this.#start(entry)).catch(() => {}); // backs off again when it fails
    }
    return entry.fetched;
  }

  /**
   * Keeps `reference` as a value whose first fetch failed with `error` (an optional secret at
   * start-up): {@link peek} tries it again in the background, with backoff, until it has a value.
   */
  remember(reference: SecretReference, error: unknown, options: EntryOptions = {}): void {
    const entry = this.#entry(reference, options);
    if (entry.fetched === undefined) this.#failed(entry, error);
  }

  /**
   * The value: the cached one while fresh; else a fetch (joined when one is under way). When a
   * refresh fails and a value is cached, the cached value is returned (stale-if-error).
   */
  async get(reference: SecretReference, options: EntryOptions = {}): Promise<FetchedSecret> {
    const entry = this.#entry(reference, options);
    const now = performance.now();
    entry.lastUsed = now;
    entry.read = true;
    // A caller's own TTL counts too: one asking for 200 ms gets no value cached for 60 s longer.
    const fresh =
      now < entry.expiresAt && (options.ttlMs === undefined || now - entry.fetchedAt < options.ttlMs);
    if (entry.fetched !== undefined && fresh) return entry.fetched;
    if (entry.inflight !== undefined) return this.#orStale(entry, entry.inflight);
    if (entry.fetched === undefined) return this.#start(entry);
    if (now < entry.retryAt) return entry.fetched;
    return this.#orStale(entry, this.#refreshDue(entry, now));
  }

  /**
   * Fetches now, with a call sent after this one: a fetch under way may have been sent before the
   * value changed (a rotation is why an app calls this), so it is waited for, not joined. Refreshes
   * called meanwhile share the call that follows it, and so do those within `minRefreshIntervalMs`
   * of it. Rejects when it fails (the cached value stays).
   */
  refresh(reference: SecretReference, options: EntryOptions = {}): Promise<FetchedSecret> {
    const entry = this.#entry(reference, options);
    if (entry.queued !== undefined) return entry.queued;
    const now = performance.now();
    const last = entry.lastRefresh;
    if (last !== undefined && now - last.at < (this.#settings.minRefreshIntervalMs ?? 1_000))
      return last.result;
    const underWay = this.#fetchesOfItsCall(entry);
    let result: Promise<FetchedSecret>;
    if (underWay.length === 0) {
      result = this.#start(entry);
    } else {
      result = entry.queued = Promise.allSettled(underWay).then(() => {
        entry.queued = undefined;
        return entry.inflight ?? this.#start(entry); // one under way now began after this call
      });
    }
    entry.lastRefresh = { at: now, result };
    result.catch(() => {}); // kept for later callers; this one's caller handles its rejection
    return result;
  }

  /**
   * The fetches under way of `entry`, and of the values its provider answers with the same call (the
   * keys of one secret, which share one `GetSecretValue`): a new fetch would join theirs.
   */
  #fetchesOfItsCall(entry: Entry): Promise<FetchedSecret>[] {
    const entries = entry.callKey === undefined ? [entry] : (this.#byCallKey.get(entry.callKey) ?? [entry]);
    const underWay: Promise<FetchedSecret>[] = [];
    for (const other of entries) if (other.inflight !== undefined) underWay.push(other.inflight);
    return underWay;
  }

  /**
   * Marks the value stale: the next access refreshes it (and may still serve it meanwhile). A fetch
   * under way, sent before, brings a value that is stale as it arrives.
   */
  invalidate(reference: SecretReference): void {
    const entry = this.#entries.get(reference.raw);
    if (entry === undefined) return;
    entry.expiresAt = 0;
    entry.retryAt = 0;
    entry.invalidatedAt = performance.now();
  }

  /**
   * Stores a value fetched elsewhere (a start-up batch). `jitter`: the draw of {@link refreshAfterMs},
   * the same for every value of the batch, so that they fall due together. `sentAt`: when its call
   * was sent; a value the cache got from a call sent later is newer, and kept.
   */
  store(
    reference: SecretReference,
    fetched: FetchedSecret,
    options: EntryOptions = {},
    jitter?: number,
    sentAt: number = performance.now(),
  ): void {
    this.#accept(this.#entry(reference, options), fetched, jitter, sentAt);
  }

  /**
   * Says that `reference` is being fetched elsewhere (the store's start-up load) until `until`
   * settles: a read meanwhile waits for it rather than fetching again, and a `refresh` waits for it
   * and then sends a call of its own (the load's may have been sent before a rotation).
   */
  fetchingElsewhere(
    reference: SecretReference,
    until: Promise<FetchedSecret>,
    options: EntryOptions = {},
  ): void {
    const entry = this.#entry(reference, options);
    if (entry.inflight !== undefined) return;
    const pending: Promise<FetchedSecret> = until.finally(() => {
      if (entry.inflight === pending) entry.inflight = undefined;
    });
    pending.catch(() => {}); // the load reports its failures
    entry.inflight = pending;
  }

  /** What the cache knows about `reference`, without the value. */
  info(reference: SecretReference): SecretEntryInfo | undefined {
    const entry = this.#entries.get(reference.raw);
    if (entry === undefined) return undefined;
    return {
      version: entry.fetched?.version,
      stale: entry.fetched === undefined || performance.now() >= entry.expiresAt,
      failures: entry.failures,
    };
  }

  #entry(reference: SecretReference, options: EntryOptions): Entry {
    let entry = this.#entries.get(reference.raw);
    if (entry === undefined) {
      const callKey = this.#providerFor(reference).callKey?.(reference);
      entry = {
        reference,
        callKey,
        ttlMs: options.ttlMs ?? this.#settings.ttlMs,
        pinned: options.pinned === true,
        fetched: undefined,
        masked: [],
        fetchedAt: 0,
        fetchedFrom: Number.NEGATIVE_INFINITY,
        invalidatedAt: Number.NEGATIVE_INFINITY,
        expiresAt: 0,
        inflight: undefined,
        failures: 0,
        ownFailure: false,
        retryAt: 0,
        lastUsed: performance.now(),
        read: false,
      };
      this.#entries.set(reference.raw, entry);
      if (callKey !== undefined) {
        const siblings = this.#byCallKey.get(callKey);
        if (siblings === undefined) this.#byCallKey.set(callKey, new Set([entry]));
        else siblings.add(entry);
      }
      this.#evict();
    } else {
      if (options.ttlMs !== undefined) entry.ttlMs = options.ttlMs;
      if (options.pinned === true) entry.pinned = true;
    }
    return entry;
  }

  #evict(): void {
    while (this.#entries.size > this.#settings.maxEntries) {
      let oldest: Entry | undefined;
      for (const entry of this.#entries.values()) {
        if (
          !entry.pinned &&
          entry.inflight === undefined &&
          (oldest === undefined || entry.lastUsed < oldest.lastUsed)
        ) {
          oldest = entry;
        }
      }
      if (oldest === undefined) return; // everything is pinned or in flight
      this.#entries.delete(oldest.reference.raw);
      this.#unmask(oldest.masked);
      oldest.masked = [];
      // Said again if it comes back: the sets grow with the entries, not with every reference ever read.
      this.#unmaskable.delete(oldest.reference.raw);
      this.#overBound.delete(oldest.reference.raw);
      if (oldest.callKey !== undefined) {
        const siblings = this.#byCallKey.get(oldest.callKey)!;
        siblings.delete(oldest);
        if (siblings.size === 0) this.#byCallKey.delete(oldest.callKey);
      }
    }
  }

  async #orStale(entry: Entry, pending: Promise<FetchedSecret>): Promise<FetchedSecret> {
    try {
      return await pending;
    } catch (error) {
      if (entry.fetched !== undefined) return entry.fetched;
      throw error;
    }
  }

  /**
   * Refreshes `entry`, which is due, and with it, in one `fetchMany` when its provider has one, the
   * other values of that provider, declared or read since they were fetched, that are due too or
   * were fetched at least 1 − {@link refreshJitterShare} of their TTL ago (the earliest their jitter
   * could make them due: none is fetched again sooner). The batch costs no call more, and values
   * fetched together fall due together again: an instance with 20 SSM parameters makes 2
   * `GetParameters` calls per TTL instead of 20. A value backing off after a failure of the call
   * (throttling, a timeout) joins; one whose last failure was its own (not found, access denied) is
   * refreshed alone, and so never holds back the others. Outside the request that read the value:
   * no request waits for the batch, which may outlive it; its call is no child of that request's span,
   * its lines no part of it.
   */
  #refreshDue(entry: Entry, now: number): Promise<FetchedSecret> {
    return runOutsideRequestContext(() => this.#refreshBatch(entry, now));
  }

  #refreshBatch(entry: Entry, now: number): Promise<FetchedSecret> {
    const batch = this.#batchOf(entry, now);
    if (batch === undefined) return this.#start(entry);
    const { fetchMany, members } = batch;
    const jitter = Math.random(); // one draw: the batch falls due together again
    const references = members.map((member) => member.reference);
    const results = this.#bounded((signal) => fetchMany(references, signal));
    const outcomeOf = (member: Entry): Promise<FetchedSecret> =>
      results.then((map) => {
        const result = map.get(member.reference);
        if (result === undefined)
          throw new SecretFetchError(
            `${member.reference.raw}: the provider's fetchMany returned no result for it (its map must be keyed by the references it was given)`,
            { reference: member.reference.raw },
          );
        if (result instanceof Error) throw result;
        return result;
      });
    // The others' outcome is kept on their entries (a failure logged): nobody awaits them here.
    for (const other of members.slice(1)) this.#settle(other, outcomeOf(other), jitter).catch(() => {});
    return this.#settle(entry, outcomeOf(entry), jitter);
  }

  /** The batch `entry` brings along when it is refreshed (itself first); `undefined`: alone. */
  #batchOf(
    entry: Entry,
    now: number,
  ): { fetchMany: NonNullable<SecretProvider['fetchMany']>; members: Entry[] } | undefined {
    if (entry.ownFailure) return undefined;
    const provider = this.#providerFor(entry.reference) as SecretProvider | undefined;
    if (provider?.fetchMany === undefined) return undefined;
    const members = [entry];
    for (const other of this.#entries.values()) {
      if (!this.#joinable(entry, other, provider)) continue;
      const sameCall = entry.callKey !== undefined && other.callKey === entry.callKey; // whatever its age
      const dueEnough =
        (other.pinned || other.read) &&
        !other.ownFailure &&
        (now >= other.expiresAt || now - other.fetchedAt >= other.ttlMs * (1 - refreshJitterShare));
      if (sameCall || dueEnough) members.push(other);
    }
    if (members.length === 1) return undefined;
    return { fetchMany: provider.fetchMany.bind(provider), members };
  }

  /**
   * Fetches `entry`, and in the same turn every other cached value its provider answers with the same
   * call ({@link SecretProvider.callKey}: the JSON keys of one secret), whatever their age: the
   * provider serves them with that one call, so they cost nothing and come from one version.
   */
  #start(entry: Entry): Promise<FetchedSecret> {
    const provider = this.#providerFor(entry.reference);
    if (entry.callKey === undefined) return this.#fetch(entry, provider);
    const jitter = Math.random(); // one draw: they fall due together again
    const pending = this.#fetch(entry, provider, jitter);
    // None when the entry itself was evicted as it was made (every other one pinned or in flight).
    for (const other of this.#byCallKey.get(entry.callKey) ?? []) {
      // Kept on the entry, a failure logged: nobody awaits it here.
      if (this.#joinable(entry, other, provider)) this.#fetch(other, provider, jitter).catch(() => {});
    }
    return pending;
  }

  /** `other` can be fetched along with `entry`: another value of `provider`, cached, not in flight. */
  #joinable(entry: Entry, other: Entry, provider: SecretProvider): boolean {
    return (
      other !== entry &&
      other.fetched !== undefined &&
      other.inflight === undefined &&
      this.#providerFor(other.reference) === provider
    );
  }

  #fetch(entry: Entry, provider: SecretProvider, jitter?: number): Promise<FetchedSecret> {
    return this.#settle(
      entry,
      this.#bounded((signal) => provider.fetch(entry.reference, signal)),
      jitter,
    );
  }

  /**
   * One call to a provider (`fetch` or `fetchMany`) with a signal that aborts after `fetchTimeoutMs`,
   * settled by then: a provider that heeds the signal rejects with its own error (the AWS SDK's, which
   * the providers turn into a SecretTimeoutError naming the VPC egress); one that does not is given
   * up on {@link abortGraceMs} later, so it cannot keep an entry in flight for ever.
   */
  async #bounded<T>(call: (signal: AbortSignal) => Promise<T>): Promise<T> {
    const { fetchTimeoutMs } = this.#settings;
    const reason = new DOMException(`fetch timed out after ${fetchTimeoutMs} ms`, 'TimeoutError');
    const timeout = abortAfter(fetchTimeoutMs, reason);
    try {
      const bounded = await withTimeout(call(timeout.signal), fetchTimeoutMs + abortGraceMs);
      if (bounded.outcome === 'fulfilled') return bounded.value;
      throw bounded.outcome === 'rejected' ? bounded.reason : reason;
    } finally {
      timeout.clear();
    }
  }

  /**
   * Makes `pending` the entry's fetch under way, and keeps its outcome on the entry when it settles
   * (`jitter`: the batch's draw of {@link refreshAfterMs}, else one of its own).
   */
  #settle(entry: Entry, pending: Promise<FetchedSecret>, jitter?: number): Promise<FetchedSecret> {
    const sentAt = performance.now();
    entry.inflight = pending.then(
      (fetched) => {
        entry.inflight = undefined;
        this.#accept(entry, fetched, jitter, sentAt);
        return fetched;
      },
      (error: unknown) => {
        entry.inflight = undefined;
        throw this.#failed(entry, error);
      },
    );
    return entry.inflight;
  }

  /**
   * Keeps `fetched`, from a call sent at `sentAt`, unless the value kept came from a call sent later
   * (a start-up load slower than a refresh made during it): that one is newer. Invalidated since the
   * call was sent, the value is kept stale.
   */
  #accept(entry: Entry, fetched: FetchedSecret, jitter: number | undefined, sentAt: number): void {
    if (sentAt < entry.fetchedFrom) return;
    const previous = entry.fetched;
    const now = performance.now();
    entry.expiresAt = entry.invalidatedAt >= sentAt ? 0 : now + refreshAfterMs(entry.ttlMs, jitter);
    entry.fetchedAt = now;
    entry.fetchedFrom = sentAt;
    entry.fetched = fetched;
    entry.read = false;
    if (entry.failures > 0) {
      this.#logger?.info(
        { reference: entry.reference.raw, failures: entry.failures },
        previous === undefined
          ? `secret ${entry.reference.raw} loaded after ${entry.failures} failed attempt(s)`
          : `secret ${entry.reference.raw} refreshed again after ${entry.failures} failed attempt(s)`,
      );
    }
    entry.failures = 0;
    entry.ownFailure = false;
    entry.retryAt = 0;
    // The new value's forms are held before the old one's are let go: those the two share stay held.
    const released = entry.masked;
    entry.masked = fetched.sensitive ? this.#mask(entry.reference, fetched) : [];
    this.#unmask(released);
    if (previous !== undefined && previous.value !== fetched.value) {
      this.#logger?.info(
        { reference: entry.reference.raw, previousVersion: previous.version, version: fetched.version },
        `secret ${entry.reference.raw} has a new value (rotated)`,
      );
    }
  }

  #failed(entry: Entry, error: unknown): AppRunnerKitError {
    const wrapped = toSecretError(entry.reference.raw, error);
    entry.failures++;
    entry.ownFailure =
      wrapped instanceof SecretNotFoundError ||
      wrapped instanceof SecretAccessDeniedError ||
      wrapped instanceof SecretTransformError;
    const base = entry.ownFailure
      ? Math.max(this.#settings.backoffBaseMs, this.#settings.ownFailureBackoffBaseMs ?? 30_000)
      : this.#settings.backoffBaseMs;
    const backoff = Math.min(this.#settings.backoffMaxMs, base * 2 ** (entry.failures - 1));
    entry.retryAt = performance.now() + backoff * (0.8 + Math.random() * 0.4);
    if (fetchFailed.hasSubscribers) {
      const message: SecretFetchFailedMessage = {
        reference: entry.reference.raw,
        failures: entry.failures,
        cached: entry.fetched !== undefined,
      };
      fetchFailed.publish(message);
    }
    if (entry.fetched !== undefined && entry.failures === 1) {
      this.#logger?.warn(
        { err: wrapped, reference: entry.reference.raw },
        `secret ${entry.reference.raw} could not be refreshed: serving the cached value, retrying with backoff`,
      );
    } else if (entry.fetched !== undefined) {
      this.#logger?.debug(
        { reference: entry.reference.raw, failures: entry.failures },
        'secret refresh failed again',
      );
    }
    return wrapped;
  }

  /**
   * Masks a value an entry now holds (held once per entry, so that a value two entries share stays),
   * and each string field of a JSON one, which `getJson` hands out on its own. Returns what it held.
   */
  #mask(reference: SecretReference, fetched: FetchedSecret): readonly string[] {
    const { value } = fetched;
    const fields = fetched.binary === true ? undefined : jsonSecretFields(value);
    const held: string[] = [];
    for (const text of [value, ...(fields?.values ?? [])]) {
      if (text.length < minimumRedactedLength) continue;
      // A registry made by an older copy of the kit in the same process has no holders.
      if (typeof this.#redaction.hold === 'function') this.#redaction.hold(text);
      else this.#redaction.addValue(text);
      held.push(text);
    }
    if (!this.#unmaskable.has(reference.raw)) this.#tellUnmaskable(reference, value, fields?.tooShort ?? []);
    if (fields !== undefined && fields.beyondBound > 0 && !this.#overBound.has(reference.raw)) {
      this.#overBound.add(reference.raw);
      this.#logger?.warn(
        { reference: reference.raw, maxMaskedJsonFields, beyondBound: fields.beyondBound },
        `secret ${reference.raw} has more than ${maxMaskedJsonFields} string fields: only the first ${maxMaskedJsonFields} are masked in logs on their own (the whole text always is; this line is written once)`,
      );
    }
    return held;
  }

  /** Says, once per reference, that its value or some of its JSON fields are too short to mask. */
  #tellUnmaskable(reference: SecretReference, value: string, shortFields: readonly string[]): void {
    if (value.length > 0 && value.length < minimumRedactedLength) {
      this.#unmaskable.add(reference.raw);
      this.#logger?.warn(
        { reference: reference.raw },
        `secret ${reference.raw} is shorter than ${minimumRedactedLength} characters: it cannot be masked in logs`,
      );
    } else if (shortFields.length > 0) {
      this.#unmaskable.add(reference.raw);
      // Info, not warn: a JSON secret's short fields are mostly no secrets (a port, a user name, an
      // engine), and a warning at every start of every app reading an RDS secret would teach people
      // to ignore warnings. The paths are named, the values never.
      this.#logger?.info(
        { reference: reference.raw, fields: shortFields },
        `secret ${reference.raw} has JSON fields shorter than ${minimumRedactedLength} characters, not masked in logs on their own: ${shortFields.join(', ')}`,
      );
    }
  }

  /**
   * Lets go of the values an entry no longer holds (rotated out, or the entry evicted): the registry
   * keeps them masked among its retired values, the most recent {@link maxRetiredValues} of them.
   */
  #unmask(masked: readonly string[]): void {
    if (masked.length === 0 || typeof this.#redaction.release !== 'function') return;
    let dropped = 0;
    for (const text of masked) dropped += this.#redaction.release(text);
    if (dropped > 0 && !this.#retiredDropped) {
      this.#retiredDropped = true;
      this.#logger?.warn(
        { maxRetiredValues },
        `more than ${maxRetiredValues} secret values were rotated out or evicted from the cache: the oldest of them are no longer masked in logs (this line is written once)`,
      );
    }
  }
}
