import type { IncomingMessage, ServerResponse } from 'node:http';
import type { LifecycleState } from '../lifecycle/state.js';

/** Path of the liveness endpoint: the process answers. */
export const livenessPath = '/healthz';
/** Path of the readiness endpoint: the instance should get traffic. */
export const readinessPath = '/readyz';

const contentType = 'application/health+json';

// Bodies and headers are serialised once: health checks arrive every few seconds from every
// load balancer target group and must cost next to nothing.
function precomputed(status: 'pass' | 'fail', checks?: Record<string, unknown>) {
  const body = Buffer.from(JSON.stringify(checks === undefined ? { status } : { status, checks }));
  return {
    statusCode: status === 'pass' ? 200 : 503,
    body,
    headers: {
      'content-type': contentType,
      'content-length': String(body.length),
      'cache-control': 'no-store',
    },
  };
}

type Response = ReturnType<typeof precomputed>;

const live = precomputed('pass');
const readyByState: Record<LifecycleState, Response> = {
  starting: precomputed('fail', { 'lifecycle:state': [{ status: 'fail', observedValue: 'starting' }] }),
  ready: precomputed('pass', { 'lifecycle:state': [{ status: 'pass', observedValue: 'ready' }] }),
  draining: precomputed('fail', { 'lifecycle:state': [{ status: 'fail', observedValue: 'draining' }] }),
  stopped: precomputed('fail', { 'lifecycle:state': [{ status: 'fail', observedValue: 'stopped' }] }),
};

function send(req: IncomingMessage, res: ServerResponse, response: Response): void {
  res.writeHead(response.statusCode, response.headers);
  res.end(req.method === 'HEAD' ? undefined : response.body);
}

/** The path of a request without its query string. */
function pathOf(url: string | undefined): string {
  if (url === undefined) return '/';
  const q = url.indexOf('?');
  return q === -1 ? url : url.slice(0, q);
}

/**
 * Answers `GET`/`HEAD` on the health paths and returns true, or returns false for any other request.
 * Liveness passes while the process answers; readiness follows the lifecycle state.
 */
export function handleHealthRequest(
  req: IncomingMessage,
  res: ServerResponse,
  state: () => LifecycleState,
): boolean {
  if (req.method !== 'GET' && req.method !== 'HEAD') return false;
  const path = pathOf(req.url);
  if (path === livenessPath) {
    send(req, res, live);
    return true;
  }
  if (path === readinessPath) {
    send(req, res, readyByState[state()]);
    return true;
  }
  return false;
}
