import { importPeer } from '../../internal/import-peer.js';

/** Imports a peer dependency of the OpenTelemetry backend (see {@link importPeer}). */
export function importOtelPeer<T>(load: () => Promise<T>): Promise<T> {
  return importPeer('Tracing through OpenTelemetry', load);
}

/**
 * Loads the OpenTelemetry backend: first each peer it imports, so that a missing one is named in
 * the error, then the backend module itself (a chunk of its own: nothing of it loads with tracing off).
 */
export async function loadOtelBackend(): Promise<typeof import('./backend.js')> {
  await importOtelPeer(() => import('@opentelemetry/api'));
  await importOtelPeer(() => import('@opentelemetry/core'));
  await importOtelPeer(() => import('@opentelemetry/resources'));
  await importOtelPeer(() => import('@opentelemetry/sdk-trace-base'));
  return importOtelPeer(() => import('./backend.js'));
}
