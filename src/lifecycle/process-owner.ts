import { ConfigurationError } from '../errors.js';
import { processGlobal } from '../internal/process-global.js';

/** The running runtime that handles the process's signals or exits it, by its service. */
const owner = processGlobal('processOwner.v1', () => ({ service: undefined as string | undefined }));

/**
 * Throws a `ConfigurationError` while a runtime holds the process (see {@link claimProcess}): checked
 * before anything is started, so that a refused start leaves nothing behind.
 */
export function assertProcessFree(): void {
  if (owner.service !== undefined) {
    throw new ConfigurationError(
      'shutdown',
      `bootstrapAppRunner was called while another runtime (service "${owner.service}") handles this process's signals and exit: the first to finish its shutdown would exit the process under the other's requests. Serve a second server with runtime.manageServer(server), or a second app through runtime.createRequestListener(app); start this one with shutdown: { signals: [], exit: false } to embed it; or call runtime.shutdown() on the first before starting again.`,
    );
  }
}

/**
 * Claims the process for a runtime that handles its signals or exits it, and returns the release:
 * two such runtimes would each exit the process when their own shutdown ends, under the other's
 * requests.
 */
export function claimProcess(service: string): () => void {
  assertProcessFree();
  owner.service = service;
  let released = false;
  return () => {
    if (released) return;
    released = true;
    owner.service = undefined;
  };
}
