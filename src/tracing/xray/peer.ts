import { importPeer } from '../../internal/import-peer.js';

/**
 * Imports a peer dependency of the X-Ray backend (see {@link importPeer}).
 *
 * @example
 * ```ts
 * const AWSXRay = await importXrayPeer(() => import('aws-xray-sdk-core'));
 * ```
 * @throws MissingDependencyError (`ARK_DEPENDENCY_MISSING`) when the package is not installed.
 */
function importXrayPeer<T>(load: () => Promise<T>): Promise<T> {
  return importPeer('Tracing through the X-Ray SDK', load);
}

/**
 * Loads `aws-xray-sdk-core` in manual mode, then the backend module (a chunk of its own: nothing of
 * it loads with tracing off).
 *
 * Why manual mode: loaded in its default automatic mode, the SDK creates a `cls-hooked` namespace,
 * which enables an `async_hooks` hook (init, before, after, destroy) for every asynchronous resource
 * of the process — promises included — and never disables it. The kit keeps each request's segment
 * itself (see `scope.ts`), so it has the SDK read `AWS_XRAY_MANUAL_MODE` while it loads. When the
 * application loaded the SDK first, it is already evaluated and keeps the mode it chose.
 *
 * @example
 * ```ts
 * const { createXrayBackend } = await loadXrayBackend();
 * ```
 * @throws MissingDependencyError (`ARK_DEPENDENCY_MISSING`) when `aws-xray-sdk-core` is not installed.
 */
export async function loadXrayBackend(): Promise<typeof import('./backend.js')> {
  const manual = process.env.AWS_XRAY_MANUAL_MODE;
  if (manual === undefined) process.env.AWS_XRAY_MANUAL_MODE = 'true';
  try {
    await importXrayPeer(() => import('aws-xray-sdk-core'));
  } finally {
    if (manual === undefined) delete process.env.AWS_XRAY_MANUAL_MODE;
  }
  return importXrayPeer(() => import('./backend.js'));
}
