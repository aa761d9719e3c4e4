import type { IncomingMessage, ServerResponse } from 'node:http';
import { pathWithoutQuery } from '../http/path.js';
import type { LifecycleState } from '../lifecycle/state.js';
import type { HealthEvaluation, HealthRegistry } from './registry.js';
import type { HealthStatus } from './types.js';

/** Settings of the health endpoints, from the `health` options. */
export interface HealthEndpointSettings {
  readonly livenessPath: string;
  readonly readinessPath: string;
  readonly startupPath: string;
  /** Put each failing check's `output` (error text) in the body. */
  readonly exposeErrors: boolean;
  readonly serviceId: string;
  readonly version: string | undefined;
}

interface Prepared {
  readonly statusCode: number;
  readonly headers: Record<string, string>;
  readonly body: Buffer;
}

const contentType = 'application/health+json';

/**
 * The `/healthz` (liveness), `/readyz` (readiness) and `/startupz` (startup) endpoints, answering
 * `GET` and `HEAD` in `application/health+json` after the IETF draft "Health Check Response Format
 * for HTTP APIs": 200 for pass and warn, 503 for fail, `Cache-Control: no-store`. Answers that do not
 * depend on a check are serialised once, ahead of time.
 */
export class HealthEndpoints {
  readonly #settings: HealthEndpointSettings;
  readonly #registry: HealthRegistry;
  readonly #state: () => LifecycleState;
  readonly #live: Prepared;
  readonly #byState: Record<LifecycleState, Prepared>;

  constructor(settings: HealthEndpointSettings, registry: HealthRegistry, state: () => LifecycleState) {
    this.#settings = settings;
    this.#registry = registry;
    this.#state = state;
    this.#live = this.#prepare('pass', {});
    this.#byState = {
      starting: this.#prepare('fail', { 'lifecycle:state': [{ status: 'fail', observedValue: 'starting' }] }),
      ready: this.#prepare('pass', { 'lifecycle:state': [{ status: 'pass', observedValue: 'ready' }] }),
      draining: this.#prepare('fail', { 'lifecycle:state': [{ status: 'fail', observedValue: 'draining' }] }),
      stopped: this.#prepare('fail', { 'lifecycle:state': [{ status: 'fail', observedValue: 'stopped' }] }),
    };
  }

  /** True when `req` asks for one of the health endpoints. */
  matches(req: IncomingMessage): boolean {
    const path = this.#requestedPath(req);
    const { livenessPath, readinessPath, startupPath } = this.#settings;
    return path === livenessPath || path === readinessPath || path === startupPath;
  }

  /** Answers a health request and returns true, or returns false for any other request. */
  handle(req: IncomingMessage, res: ServerResponse): boolean {
    const path = this.#requestedPath(req);
    if (path === undefined) return false;
    const { livenessPath, readinessPath, startupPath } = this.#settings;
    if (path === livenessPath) {
      if (this.#registry.has('liveness')) this.#evaluate(req, res, 'liveness', undefined);
      else send(req, res, this.#live);
      return true;
    }
    if (path === readinessPath) {
      const state = this.#state();
      if (state !== 'ready' || !this.#registry.has('readiness')) send(req, res, this.#byState[state]);
      else this.#evaluate(req, res, 'readiness', 'ready');
      return true;
    }
    if (path === startupPath) {
      const state = this.#state();
      if (state === 'starting') send(req, res, this.#byState.starting);
      else if (!this.#registry.has('startup')) send(req, res, this.#live);
      else this.#evaluate(req, res, 'startup', undefined);
      return true;
    }
    return false;
  }

  /** The path a GET or HEAD request asks for; `undefined` for any other method. */
  #requestedPath(req: IncomingMessage): string | undefined {
    return req.method === 'GET' || req.method === 'HEAD' ? pathWithoutQuery(req.url) : undefined;
  }

  #evaluate(
    req: IncomingMessage,
    res: ServerResponse,
    endpoint: 'liveness' | 'readiness' | 'startup',
    state: LifecycleState | undefined,
  ): void {
    this.#registry.evaluate(endpoint).then(
      (evaluation) => send(req, res, this.#fromEvaluation(evaluation, state)),
      () => send(req, res, this.#byState.stopped), // evaluate() does not reject; answer all the same
    );
  }

  #fromEvaluation(evaluation: HealthEvaluation, state: LifecycleState | undefined): Prepared {
    const checks: Record<string, object[]> = {};
    if (state !== undefined) checks['lifecycle:state'] = [{ status: 'pass', observedValue: state }];
    for (const [name, report] of Object.entries(evaluation.checks)) {
      const { output, ...rest } = report;
      checks[name] = [this.#settings.exposeErrors && output !== undefined ? report : rest];
    }
    return this.#prepare(evaluation.status, checks);
  }

  #prepare(status: HealthStatus, checks: Record<string, object[]>): Prepared {
    const document: Record<string, unknown> = { status, serviceId: this.#settings.serviceId };
    if (this.#settings.version !== undefined) document.version = this.#settings.version;
    if (Object.keys(checks).length > 0) document.checks = checks;
    const body = Buffer.from(JSON.stringify(document));
    return {
      statusCode: status === 'fail' ? 503 : 200,
      body,
      headers: {
        'content-type': contentType,
        'content-length': String(body.length),
        'cache-control': 'no-store',
      },
    };
  }
}

function send(req: IncomingMessage, res: ServerResponse, prepared: Prepared): void {
  if (res.headersSent || res.destroyed) return;
  res.writeHead(prepared.statusCode, prepared.headers);
  res.end(req.method === 'HEAD' ? undefined : prepared.body);
}
