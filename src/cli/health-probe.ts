import { request } from 'node:http';
import { connect } from 'node:net';
import type { HealthCheckSettings } from './check-options.js';

/** Where the app is reached: a host (IPv4 or IPv6 literal) and a port. */
export interface Endpoint {
  readonly host: string;
  readonly port: number;
}

/** The result of one connection attempt or health check. */
export interface ProbeResult {
  readonly ok: boolean;
  /** Milliseconds until the connection was accepted (TCP) or the whole answer read (HTTP). */
  readonly latencyMs: number;
  /** The HTTP status, for an HTTP check that got an answer. */
  readonly status?: number;
  /** Why it failed: `ECONNREFUSED`, `timeout`, `status 503`, … */
  readonly error?: string;
}

function errorName(error: unknown): string {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  return typeof code === 'string' ? code : error instanceof Error ? error.message : String(error);
}

function round(ms: number): number {
  return Math.round(ms * 100) / 100;
}

/**
 * Tries to open a TCP connection to `endpoint` within `timeoutMs`, then closes it. Never rejects.
 *
 * @example
 * ```ts
 * await tryConnect({ host: '127.0.0.1', port: 8080 }, 500); // { ok: true, latencyMs: 0.31 }
 * ```
 */
export function tryConnect(endpoint: Endpoint, timeoutMs: number): Promise<ProbeResult> {
  const started = performance.now();
  return new Promise((resolve) => {
    const socket = connect({ host: endpoint.host, port: endpoint.port });
    const finish = (result: ProbeResult) => {
      clearTimeout(timer);
      socket.destroy();
      resolve(result);
    };
    const timer = setTimeout(
      () => finish({ ok: false, latencyMs: round(performance.now() - started), error: 'timeout' }),
      timeoutMs,
    );
    socket.once('connect', () => finish({ ok: true, latencyMs: round(performance.now() - started) }));
    socket.once('error', (error) =>
      finish({ ok: false, latencyMs: round(performance.now() - started), error: errorName(error) }),
    );
  });
}

/**
 * One HTTP health check: `GET path` on a new connection, passed by a 2xx status with the whole
 * answer read within `timeoutMs`. App Runner does not document which statuses pass; a 2xx is what
 * every load balancer accepts, so anything else fails here. Never rejects.
 */
function httpCheck(endpoint: Endpoint, path: string, timeoutMs: number): Promise<ProbeResult> {
  const started = performance.now();
  return new Promise((resolve) => {
    let settled = false;
    const finish = (result: ProbeResult) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      req.destroy();
      resolve(result);
    };
    const req = request(
      {
        host: endpoint.host,
        port: endpoint.port,
        path,
        method: 'GET',
        agent: false,
        headers: { 'user-agent': 'apprunner-kit-check', connection: 'close' },
      },
      (res) => {
        res.resume();
        res.once('end', () => {
          const status = res.statusCode ?? 0;
          const latencyMs = round(performance.now() - started);
          finish(
            status >= 200 && status < 300
              ? { ok: true, latencyMs, status }
              : { ok: false, latencyMs, status, error: `status ${status}` },
          );
        });
        res.once('error', (error) =>
          finish({ ok: false, latencyMs: round(performance.now() - started), error: errorName(error) }),
        );
      },
    );
    const timer = setTimeout(
      () => finish({ ok: false, latencyMs: round(performance.now() - started), error: 'timeout' }),
      timeoutMs,
    );
    req.once('error', (error) =>
      finish({ ok: false, latencyMs: round(performance.now() - started), error: errorName(error) }),
    );
    req.end();
  });
}

/** One health check as App Runner is configured to run it: TCP connect, or HTTP on the path. */
export function probeHealth(endpoint: Endpoint, settings: HealthCheckSettings): Promise<ProbeResult> {
  const timeoutMs = settings.timeoutS * 1000;
  return settings.protocol === 'http'
    ? httpCheck(endpoint, settings.path, timeoutMs)
    : tryConnect(endpoint, timeoutMs);
}
