import type { IncomingMessage, ServerResponse } from 'node:http';
import { originTarget } from '../http/path.js';
import type { LifecycleState } from '../lifecycle/state.js';
import { redaction as processRedaction, type RedactionRegistry } from '../logging/redaction.js';
import type { HealthEvaluation, HealthRegistry } from './registry.js';
import type { HealthCheckReport, HealthStatus } from './types.js';

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

type Endpoint = 'liveness' | 'readiness' | 'startup';

/**
 * True when the request URL `url` (in origin form) is `path`, with or without a query string.
 * It runs for every request, so it compares in place rather than slicing the query off, and looks
 * for the `?` first: most URLs have none where the path would end.
 */
function isPath(url: string, path: string): boolean {
  return url === path || (url.charCodeAt(path.length) === 0x3f && url.startsWith(path));
}

/** A check's report without its `output` (error text), as shown unless `exposeErrors` is on. */
export function withoutOutput(report: HealthCheckReport): Omit<HealthCheckReport, 'output'> {
  const { output: _hidden, ...rest } = report;
  return rest;
}

/**
 * The `/healthz` (liveness), `/readyz` (readiness) and `/startupz` (startup) endpoints, answering
 * `GET` and `HEAD` in `application/health+json` after the IETF draft "Health Check Response Format
 * for HTTP APIs": 200 for pass and warn, 503 for fail, `Cache-Control: no-store`. Answers that do not
 * depend on a check are serialised once, ahead of time; one that does is masked against `redaction`
 * (the process's registry by default, which the logger masks with) — a check's `output` and
 * `observedValue` may quote a secret, and the endpoint is public.
 */
export class HealthEndpoints {
  readonly #settings: HealthEndpointSettings;
  readonly #registry: HealthRegistry;
  readonly #state: () => LifecycleState;
  readonly #live: Prepared;
  readonly #byState: Record<LifecycleState, Prepared>;
  readonly #redaction: RedactionRegistry;

  constructor(
    settings: HealthEndpointSettings,
    registry: HealthRegistry,
    state: () => LifecycleState,
    redaction: RedactionRegistry = processRedaction,
  ) {
    this.#settings = settings;
    this.#registry = registry;
    this.#state = state;
    this.#redaction = redaction;
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
    return this.#requested(req) !== undefined;
  }

  /** Answers a health request and returns true, or returns false for any other request. */
  handle(req: IncomingMessage, res: ServerResponse): boolean {
    switch (this.#requested(req)) {
      case 'liveness':
        if (this.#registry.has('liveness')) this.#evaluate(req, res, 'liveness', undefined);
        else send(req, res, this.#live);
        return true;
      case 'readiness': {
        const state = this.#state();
        if (state !== 'ready' || !this.#registry.has('readiness')) send(req, res, this.#byState[state]);
        else this.#evaluate(req, res, 'readiness', 'ready');
        return true;
      }
      case 'startup': {
        const state = this.#state();
        if (state === 'starting') send(req, res, this.#byState.starting);
        else if (!this.#registry.has('startup')) send(req, res, this.#live);
        else this.#evaluate(req, res, 'startup', undefined);
        return true;
      }
      default:
        return false;
    }
  }

  /** The endpoint a GET or HEAD request asks for; `undefined` for any other method or path. */
  #requested(req: IncomingMessage): Endpoint | undefined {
    if (req.method !== 'GET' && req.method !== 'HEAD') return undefined;
    const url = originTarget(req.url); // `GET http://host/healthz` too, as frameworks route it
    const { livenessPath, readinessPath, startupPath } = this.#settings;
    if (isPath(url, livenessPath)) return 'liveness';
    if (isPath(url, readinessPath)) return 'readiness';
    if (isPath(url, startupPath)) return 'startup';
    return undefined;
  }

  #evaluate(
    req: IncomingMessage,
    res: ServerResponse,
    endpoint: Endpoint,
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
      checks[name] = [
        this.#settings.exposeErrors && report.output !== undefined ? report : withoutOutput(report),
      ];
    }
    return this.#prepare(evaluation.status, checks, true);
  }

  /** The answer for `status` and `checks`; `masked` when a check's report is in it (see the class). */
  #prepare(status: HealthStatus, checks: Record<string, object[]>, masked = false): Prepared {
    const document: Record<string, unknown> = { status, serviceId: this.#settings.serviceId };
    if (this.#settings.version !== undefined) document.version = this.#settings.version;
    if (Object.keys(checks).length > 0) document.checks = checks;
    const json = JSON.stringify(document);
    // The whole document, not field by field: the registry masks inside JSON strings, and so
    // covers every field a report may carry, at one pattern test when nothing matches.
    const body = Buffer.from(masked ? this.#redaction.mask(json) : json);
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
