import { SecretNotFoundError } from '../../errors.js';
import type { FetchedSecret, SecretProvider } from '../provider.js';
import type { SecretReference } from '../reference.js';

/** `env:NAME`: a variable of the environment the kit was configured with. */
export function envProvider(env: Readonly<Record<string, string | undefined>>): SecretProvider {
  return {
    async fetch(reference: SecretReference): Promise<FetchedSecret> {
      if (reference.kind !== 'env') throw new TypeError(`envProvider cannot fetch ${reference.raw}`);
      const value = env[reference.name];
      if (value === undefined) {
        throw new SecretNotFoundError(
          `${reference.raw}: the environment variable ${reference.name} is not set.`,
          {
            reference: reference.raw,
          },
        );
      }
      return { value, sensitive: true };
    },
  };
}
