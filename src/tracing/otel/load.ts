import type { TracingBackend } from '../backend.js';
import type { OtelBackendOptions } from './backend.js';
import { importOtelPeer } from './peer.js';
import { loadTraceSdk } from './trace-sdk.js';

/** Builds the OpenTelemetry backend; what {@link loadOtelBackend} returns. */
export interface OtelBackendFactory {
  createOtelBackend(options: OtelBackendOptions): Promise<TracingBackend>;
}

/**
 * Loads the OpenTelemetry backend: first each peer it imports, so that a missing one is named in
 * the error, and the trace SDK of the installed line (see {@link loadTraceSdk}), then the backend
 * module itself (a chunk of its own: nothing of it loads with tracing off).
 *
 * @throws MissingDependencyError (`ARK_DEPENDENCY_MISSING`) naming the first missing package.
 */
export async function loadOtelBackend(): Promise<OtelBackendFactory> {
  await importOtelPeer(() => import('@opentelemetry/api'));
  await importOtelPeer(() => import('@opentelemetry/core'));
  await importOtelPeer(() => import('@opentelemetry/resources'));
  const sdk = await loadTraceSdk();
  const { createOtelBackend } = await importOtelPeer(() => import('./backend.js'));
  return { createOtelBackend: (options) => createOtelBackend(options, sdk) };
}
