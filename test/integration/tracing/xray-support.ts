import type { BootstrapOptions, NodeRequestListener, XraySamplingRules } from '../../../src/index.js';
import { startRuntime, type TestRuntime } from '../../support/runtime.js';
import type { CollectedSegment, CollectedSubsegment, XRayDaemon } from '../../support/xray-daemon.js';

/** Local rules that record every new trace: deterministic tests. */
export const sampleEverything: XraySamplingRules = { version: 2, default: { fixed_target: 0, rate: 1 } };

const traceIdPattern = /^1-[0-9a-f]{8}-[0-9a-f]{24}$/;
const entityIdPattern = /^[0-9a-f]{16}$/;

/**
 * A runtime tracing through the X-Ray SDK to `daemon` (`auto` mode, AWS_XRAY_DAEMON_ADDRESS),
 * sampling every new trace locally unless `options.tracing` says otherwise. `app` gets the runtime
 * (it exists once the promise resolves).
 */
export async function startXray(
  daemon: XRayDaemon,
  app: (runtime: TestRuntime['runtime']) => NodeRequestListener,
  options: BootstrapOptions = {},
): Promise<TestRuntime> {
  let started: TestRuntime | undefined;
  const listener: NodeRequestListener = (req, res) => app(started!.runtime)(req, res);
  started = await startRuntime({
    service: 'notes-api',
    version: '1.4.0',
    app: listener,
    tracing: { xray: { sampling: 'local', samplingRules: sampleEverything } },
    ...options,
    env: { AWS_XRAY_DAEMON_ADDRESS: daemon.address, ...options.env },
  });
  return started;
}

/** Every id the daemon recorded is well formed, and no datagram was malformed. */
export function expectWellFormed(daemon: XRayDaemon): string[] {
  const problems: string[] = daemon.malformed.map((m) => `malformed datagram: ${m.reason}`);
  for (const segment of daemon.segments) {
    if (!traceIdPattern.test(segment.traceId)) problems.push(`trace id ${segment.traceId}`);
    if (!entityIdPattern.test(segment.id)) problems.push(`segment id ${segment.id}`);
    if (segment.parentId !== undefined && !entityIdPattern.test(segment.parentId)) {
      problems.push(`parent id ${segment.parentId}`);
    }
  }
  for (const subsegment of daemon.subsegments) {
    if (!entityIdPattern.test(subsegment.id)) problems.push(`subsegment id ${subsegment.id}`);
  }
  return problems;
}

/** The one collected segment whose `http.request.url` ends with `path`. */
export function segmentFor(daemon: XRayDaemon, path: string): CollectedSegment {
  const found = daemon.segments.filter((s) => urlOf(s).endsWith(path));
  if (found.length !== 1) {
    throw new Error(`${found.length} segments for ${path} in ${JSON.stringify(daemon.segments.map(urlOf))}`);
  }
  return found[0]!;
}

/** The URL a segment recorded. */
export function urlOf(segment: CollectedSegment): string {
  const http = segment.document.http as { request?: { url?: string } } | undefined;
  return http?.request?.url ?? '';
}

/** The subsegments (nested at any depth) whose parent is `parentId`. */
export function childrenOf(daemon: XRayDaemon, parentId: string): CollectedSubsegment[] {
  return daemon.subsegments.filter((s) => s.parentId === parentId);
}
