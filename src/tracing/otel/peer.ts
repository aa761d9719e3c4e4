import { MissingDependencyError } from '../../errors.js';

const feature = 'Tracing through OpenTelemetry';

/** The package a module-not-found error names, if it names one (not a relative or absolute path). */
export function missingPackage(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  if (code !== 'ERR_MODULE_NOT_FOUND' && code !== 'MODULE_NOT_FOUND') return undefined;
  const message = error instanceof Error ? error.message : '';
  return /Cannot find (?:package|module) '((?:@[\w.-]+\/)?[\w.-]+)(?:\/[^']*)?'/.exec(message)?.[1];
}

/**
 * Imports an optional peer dependency. A missing package — this one, or one it needs — becomes a {@link MissingDependencyError} naming it and the `npm install` command.
 *
 * @throws MissingDependencyError (`ARK_DEPENDENCY_MISSING`) when the package is not installed.
 */
export async function importPeer<T>(load: () => Promise<T>): Promise<T> {
  try {
    return await load();
  } catch (error) {
    const missing = missingPackage(error);
    if (missing !== undefined) throw new MissingDependencyError(missing, feature, { cause: error });
    throw error;
  }
}

/**
 * Loads the OpenTelemetry backend: first each peer it imports, so that a missing one is named in
 * the error, then the backend module itself (a chunk of its own: nothing of it loads with tracing off).
 */
export async function loadOtelBackend(): Promise<typeof import('./backend.js')> {
  await importPeer(() => import('@opentelemetry/api'));
  await importPeer(() => import('@opentelemetry/core'));
  await importPeer(() => import('@opentelemetry/resources'));
  await importPeer(() => import('@opentelemetry/sdk-trace-base'));
  return importPeer(() => import('./backend.js'));
}
