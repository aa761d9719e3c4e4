import {
  failedDespiteStatus,
  propagationSlot,
  quietSlot,
  responseUnfinished,
  traceParentSlot,
} from '../../http/context.js';
import type { RequestScope } from '../../http/request-scope.js';
import { responseContentLength } from '../../http/response-length.js';
import type { TracingBackend } from '../backend.js';
import { describeIncomingRequest } from '../incoming-request.js';
import { formatTraceHeader, newTraceId, type TraceHeader } from '../trace-header.js';
import type { InstrumentationFailures } from './failures.js';

/**
 * The parent a quiet request (`quietRequests`) continues: its caller's trace, or a new one, not
 * sampled. Nothing in it is then recorded, by the kit or by code using `@opentelemetry/api` (its
 * spans follow their parent's decision), and the calls it makes tell their callees it is not sampled.
 */
function unsampled(header: TraceHeader | undefined): TraceHeader {
  return {
    root: header?.root ?? newTraceId(),
    parent: header?.parent,
    sampled: '0',
    self: undefined,
    lineage: header?.lineage,
  };
}

/**
 * One server span per request, through the request scope's hooks: started before the handler runs
 * (continuing the trace of a well-formed `X-Amzn-Trace-Id` or `traceparent`, as
 * `tracing.propagators` reads them, else a new one), ended when the
 * response ends. Sets the request context's `traceId` to the span's, so log lines carry it. A
 * caller that sent `Sampled=?` gets the decision back in the response's `X-Amzn-Trace-Id`.
 * Returns the function that removes the hooks.
 */
export function instrumentServer(
  scope: RequestScope,
  backend: TracingBackend,
  failures: InstrumentationFailures,
  trustedProxies: number,
): () => void {
  const removeStart = scope.onStart((context, req, res) => {
    try {
      const header = context[traceParentSlot]; // parsed once, by the request scope
      const started = backend.startRequest(
        context,
        describeIncomingRequest(req, trustedProxies),
        context[quietSlot] === true ? unsampled(header) : header,
        context[propagationSlot],
      );
      context.traceId = started.traceId;
      if (header?.sampled === '?' && !res.headersSent) {
        const answer = formatTraceHeader({ root: started.traceId, sampled: started.sampled ? '1' : '0' });
        if (answer !== undefined) res.setHeader('X-Amzn-Trace-Id', answer);
      }
    } catch (error) {
      failures.report('starting the request span', error);
    }
  });
  const removeFinish = scope.onFinish((context, _req, res) => {
    try {
      const aborted = responseUnfinished(res);
      backend.finishRequest(context, {
        // Set by the app, but not sent: no status reached the client.
        statusCode: res.headersSent ? res.statusCode : undefined,
        aborted,
        route: context.route,
        error: context.error,
        failedDespiteStatus: failedDespiteStatus(context, res),
        // The length declared: of a response cut short, less went out (as on the request line).
        contentLength: aborted ? undefined : responseContentLength(res),
      });
    } catch (error) {
      failures.report('ending the request span', error);
    }
  });
  return () => {
    removeStart();
    removeFinish();
  };
}
