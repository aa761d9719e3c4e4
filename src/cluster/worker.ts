import type { Cluster } from 'node:cluster';
import type { Logger } from 'pino';

/**
 * Set by {@link runCluster} in each worker's environment to the primary's pid: a worker whose parent
 * has that pid knows its primary is the kit's. The pid, not a flag, as a flag would be inherited by
 * the processes a worker starts, a cluster of its own among them.
 */
export const primaryPidVariable = 'APPRUNNER_KIT_CLUSTER_PRIMARY';

/** The key of the messages a worker sends to the kit's primary (other messages are the app's). */
export const clusterMessageKey = 'apprunner-kit.cluster.v1';

/** What a worker tells the kit's primary once it started. */
export interface WorkerReport {
  /** The worker's `shutdown.timeoutMs`: the primary waits that long, and a margin, before a SIGKILL. */
  readonly shutdownTimeoutMs: number;
}

/**
 * Node's cluster module, loaded when asked: the core's import does not load it in every app.
 * `getBuiltinModule` gives the module itself (`cluster.isWorker`), not an ESM namespace.
 */
export function nodeCluster(): Cluster {
  return process.getBuiltinModule('node:cluster') as unknown as Cluster;
}

/**
 * This process's `cluster.worker.id` when it is a cluster worker. A process without an IPC channel is
 * none, and its cluster module is not loaded to say so.
 */
export function clusterWorkerId(): number | undefined {
  return process.send === undefined ? undefined : nodeCluster().worker?.id;
}

/**
 * Whose worker this process is: `undefined` when it is no cluster worker, or one of PM2's cluster
 * mode (`pm_id` set), whose daemon sends each worker SIGINT itself when it stops the app.
 */
export function clusterPrimary(): 'kit' | 'foreign' | undefined {
  // Without an IPC channel the process is no worker: its cluster module need not be loaded.
  if (process.send === undefined || !nodeCluster().isWorker) return undefined;
  if (process.env[primaryPidVariable] === String(process.ppid)) return 'kit';
  return process.env.pm_id === undefined ? 'foreign' : undefined;
}

/**
 * In a cluster worker (`primary`, as {@link clusterPrimary} says): tells the kit's primary what it
 * needs of this worker's settings, or, under another primary, warns that the platform's SIGTERM
 * will not reach the drain. Called once the kit handles the worker's signals.
 */
export function meetClusterPrimary(
  logger: Logger,
  primary: ReturnType<typeof clusterPrimary>,
  report: WorkerReport,
): void {
  if (primary === 'kit') {
    // The channel may have closed already (the primary was killed): nothing to tell.
    if (process.connected) process.send?.({ [clusterMessageKey]: report }, undefined, {}, () => {});
    return;
  }
  if (primary === 'foreign') {
    logger.warn(
      { primaryPid: process.ppid },
      "this process is a cluster worker whose primary is not the kit's runCluster: in a container the platform's SIGTERM reaches the primary alone, which dies at once, and Node then ends this worker as its IPC channel closes, so the drain never runs and the requests in flight are dropped. Call runCluster() in the primary (import { runCluster } from 'apprunner-kit'; if (cluster.isPrimary) runCluster(); else await bootstrapAppRunner({ app })), or have the primary forward SIGTERM to each worker and wait for them to exit",
    );
  }
}

/** A worker's report, when `message` is one (anything else is the app's own message). */
export function workerReportOf(message: unknown): WorkerReport | undefined {
  if (typeof message !== 'object' || message === null) return undefined;
  const report = (message as Record<string, unknown>)[clusterMessageKey] as Partial<WorkerReport> | undefined;
  const timeout = report?.shutdownTimeoutMs;
  return typeof timeout === 'number' && Number.isInteger(timeout) && timeout > 0
    ? { shutdownTimeoutMs: timeout }
    : undefined;
}
