import type { Attributes } from '@opentelemetry/api';
import type { CallOutcome, OutgoingCall } from '../backend.js';
import type { IncomingRequestInfo } from '../incoming-request.js';
import type { SpanAttributes } from '../tracer.js';
import { awsInputAttributes } from './aws-resources.js';

// Names of the stable HTTP semantic conventions (and the RPC/AWS ones), written out: importing
// @opentelemetry/semantic-conventions would be one more peer dependency for a few strings.
const knownMethods = new Set([
  'CONNECT',
  'DELETE',
  'GET',
  'HEAD',
  'OPTIONS',
  'PATCH',
  'POST',
  'PUT',
  'TRACE',
  'QUERY',
]);

/** The method as the conventions want it: a known method as is, anything else `_OTHER`. */
export function normaliseMethod(method: string): { method: string; original: string | undefined } {
  const upper = method.toUpperCase();
  if (knownMethods.has(upper)) return { method: upper, original: upper === method ? undefined : method };
  return { method: '_OTHER', original: method };
}

/** The span name of a request: `GET /notes/:id` with a route, `GET` without one (low cardinality). */
export function serverSpanName(method: string, route: string | undefined): string {
  const name = method === '_OTHER' ? 'HTTP' : method;
  return route === undefined ? name : `${name} ${route}`;
}

/** The attributes of a request's span known when it starts. */
export function serverAttributes(
  info: IncomingRequestInfo,
  method: { method: string; original: string | undefined },
): Attributes {
  const attributes: Attributes = {
    'http.request.method': method.method,
    'url.path': info.path,
    'url.scheme': info.scheme,
    'network.protocol.version': info.protocolVersion,
  };
  if (method.original !== undefined) attributes['http.request.method_original'] = method.original;
  if (info.host !== undefined) attributes['server.address'] = info.host;
  if (info.port !== undefined) attributes['server.port'] = info.port;
  if (info.clientAddress !== undefined) attributes['client.address'] = info.clientAddress;
  // Behind App Runner's proxy the peer differs from the client; on a laptop it is the same: say it once.
  if (info.peerAddress !== undefined && info.peerAddress !== info.clientAddress) {
    attributes['network.peer.address'] = info.peerAddress;
  }
  if (info.userAgent !== undefined) attributes['user_agent.original'] = info.userAgent;
  return attributes;
}

/** The name and attributes of a client span. */
export function clientSpan(call: OutgoingCall): { name: string; attributes: Attributes } {
  if (call.kind === 'aws') {
    const attributes: Attributes = {
      'rpc.system': 'aws-api',
      'rpc.service': call.service,
      'rpc.method': call.operation,
      ...awsInputAttributes(call.service, call.input),
    };
    if (call.region !== undefined) {
      attributes['cloud.region'] = call.region;
      // The name the collector's X-Ray exporter reads for the subsegment's `aws.region`.
      attributes['aws.region'] = call.region;
    }
    return { name: `${call.service}.${call.operation}`, attributes };
  }
  const method = normaliseMethod(call.method);
  const host = call.host.includes(':') && !call.host.startsWith('[') ? `[${call.host}]` : call.host;
  const attributes: Attributes = {
    'http.request.method': method.method,
    'server.address': call.host,
    'url.full': `${call.protocol}//${host}${call.port === undefined ? '' : `:${call.port}`}${call.path}`,
  };
  if (method.original !== undefined) attributes['http.request.method_original'] = method.original;
  if (call.port !== undefined) attributes['server.port'] = call.port;
  return { name: method.method === '_OTHER' ? 'HTTP' : method.method, attributes };
}

/** The `error.type` of an error: its `name` (AWS error codes are names), else `_OTHER`. */
export function errorType(error: unknown): string {
  const code = (error as { code?: unknown } | null)?.code;
  if (typeof code === 'string' && code !== '') return code;
  const name = error instanceof Error ? error.name : undefined;
  return name !== undefined && name !== '' && name !== 'Error' ? name : '_OTHER';
}

/** The attributes of a call's outcome. */
export function outcomeAttributes(outcome: CallOutcome): Attributes {
  const attributes: Attributes = {};
  if (outcome.statusCode !== undefined) attributes['http.response.status_code'] = outcome.statusCode;
  if (outcome.requestId !== undefined) attributes['aws.request_id'] = outcome.requestId;
  if (outcome.extendedRequestId !== undefined)
    attributes['aws.extended_request_id'] = outcome.extendedRequestId;
  if (outcome.attempts !== undefined && outcome.attempts > 1)
    attributes['http.request.resend_count'] = outcome.attempts - 1;
  return attributes;
}

/** The user's attributes without `undefined` values. */
export function definedAttributes(attributes: SpanAttributes | undefined): Attributes {
  const defined: Attributes = {};
  if (attributes === undefined) return defined;
  for (const key of Object.keys(attributes)) {
    const value = attributes[key];
    if (value !== undefined) defined[key] = value as Attributes[string];
  }
  return defined;
}
