import type { XrayDaemonAddress } from '../../config/tracing.js';
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
 * Runs `load` with the environment variables of `values` set (`undefined`: unset), then puts back
 * what was there.
 */
async function withEnvironment<T>(
  values: Readonly<Record<string, string | undefined>>,
  load: () => Promise<T>,
): Promise<T> {
  const previous = Object.entries(values).map(([name]) => [name, process.env[name]] as const);
  const set = (name: string, value: string | undefined) => {
    if (value === undefined) delete process.env[name];
    else process.env[name] = value;
  };
  for (const [name, value] of Object.entries(values)) set(name, value);
  try {
    return await load();
  } finally {
    for (const [name, value] of previous) set(name, value);
  }
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
 * The SDK parses `AWS_XRAY_DAEMON_ADDRESS` as it loads too, and throws at forms the kit accepts
 * (`UDP:` in capitals, more than one space): while it loads, the variable holds `daemon`, the
 * address the kit validated, in the form the SDK reads.
 *
 * @example
 * ```ts
 * const { createXrayBackend } = await loadXrayBackend(config.tracing.xrayDaemonAddress);
 * ```
 * @throws MissingDependencyError (`ARK_DEPENDENCY_MISSING`) when `aws-xray-sdk-core` is not installed.
 */
export async function loadXrayBackend(daemon?: XrayDaemonAddress): Promise<typeof import('./backend.js')> {
  const { AWS_XRAY_MANUAL_MODE: manual, AWS_XRAY_DAEMON_ADDRESS: address } = process.env;
  await withEnvironment(
    {
      AWS_XRAY_MANUAL_MODE: manual ?? 'true',
      AWS_XRAY_DAEMON_ADDRESS:
        address === undefined || daemon === undefined
          ? undefined
          : `udp:${daemon.udp.host}:${daemon.udp.port} tcp:${daemon.tcp.host}:${daemon.tcp.port}`,
    },
    () => importXrayPeer(() => import('aws-xray-sdk-core')),
  );
  return importXrayPeer(() => import('./backend.js'));
}
