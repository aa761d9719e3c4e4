import { MissingDependencyError } from '../errors.js';

/** The package a module-not-found error names, if it names one (not a relative or absolute path). */
function missingPackage(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  if (code !== 'ERR_MODULE_NOT_FOUND' && code !== 'MODULE_NOT_FOUND') return undefined;
  const message = error instanceof Error ? error.message : '';
  return /Cannot find (?:package|module) '((?:@[\w.-]+\/)?[\w.-]+)(?:\/[^']*)?'/.exec(message)?.[1];
}

/**
 * Imports an optional peer dependency, dynamically, so that only the part that uses it loads it. A
 * missing package — this one, or one it needs — becomes a {@link MissingDependencyError} naming it,
 * `feature` and the `npm install` command.
 *
 * @throws MissingDependencyError (`ARK_DEPENDENCY_MISSING`) when the package is not installed.
 */
export async function importPeer<T>(feature: string, load: () => Promise<T>): Promise<T> {
  try {
    return await load();
  } catch (error) {
    const missing = missingPackage(error);
    if (missing !== undefined) throw new MissingDependencyError(missing, feature, { cause: error });
    throw error;
  }
}
