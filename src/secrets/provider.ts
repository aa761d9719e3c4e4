import type { SecretReference } from './reference.js';

/** A value a provider fetched. */
export interface FetchedSecret {
  /** The value: text, or base64 for a binary secret (`binary: true`). */
  readonly value: string;
  /** True for a Secrets Manager `SecretBinary`, whose `value` is base64. */
  readonly binary?: boolean;
  /** The version the value belongs to (`VersionId`, parameter version), when known. */
  readonly version?: string;
  /**
   * True when the value must be masked in logs: Secrets Manager values, SSM SecureStrings, and
   * values from `env:` and `file:` (which stand in for them locally). Plain SSM Strings are not.
   */
  readonly sensitive: boolean;
}

/**
 * Where values come from. The cache owns expiry, single-flight, retries and error wrapping; a
 * provider only fetches. Implement it to add a scheme (`vault:`, `doppler:`) through
 * `secretOptions.providers`.
 *
 * @example
 * ```ts
 * const vault: SecretProvider = {
 *   async fetch(reference) {
 *     const value = await vaultClient.read(reference.kind === 'custom' ? reference.path : '');
 *     return { value, sensitive: true };
 *   },
 * };
 * await bootstrapAppRunner({ secrets: { TOKEN: 'vault:kv/app/token' }, secretOptions: { providers: { vault } } });
 * ```
 */
export interface SecretProvider {
  /** Fetches one reference; throws to fail (the cache wraps and retries). */
  fetch(reference: SecretReference, signal: AbortSignal): Promise<FetchedSecret>;
  /**
   * Fetches many references in as few calls as the backend allows (the start-up load, and refreshes
   * of values that fall due together); returns, keyed by the reference objects it was given, each
   * one's value or the error that reference met.
   */
  fetchMany?(
    references: readonly SecretReference[],
    signal: AbortSignal,
  ): Promise<ReadonlyMap<SecretReference, FetchedSecret | Error>>;
  /**
   * Names the backend call that answers `reference`, for references that one call answers together
   * (the JSON keys of one Secrets Manager secret); `undefined` for one answered alone. When a value
   * is refreshed, the cache fetches every other cached value with the same key in the same turn, so
   * that they come from one version (a username and a password rotated together). The provider must
   * answer concurrent fetches of one key with one call: they then cost nothing more.
   */
  callKey?(reference: SecretReference): string | undefined;
}
