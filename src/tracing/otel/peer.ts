import { importPeer } from '../../internal/import-peer.js';

/** Imports a peer dependency of the OpenTelemetry backend (see {@link importPeer}). */
export function importOtelPeer<T>(load: () => Promise<T>): Promise<T> {
  return importPeer('Tracing through OpenTelemetry', load);
}
