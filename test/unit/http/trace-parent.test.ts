import { afterEach, describe, expect, it } from 'vitest';
import type { TracePropagator } from '../../../src/config/tracing.js';
import { type MutableRequestContext, propagationSlot, traceParentSlot } from '../../../src/http/context.js';
import { getRequestContext } from '../../../src/index.js';
import { baseUrl, get } from '../../support/http.js';
import { startRuntime, stopRuntimes } from '../../support/runtime.js';

afterEach(stopRuntimes);

const w3cTrace = '4bf92f3577b34da6a3ce929d0e0e4736';
const w3cRoot = '1-4bf92f35-77b34da6a3ce929d0e0e4736';
const traceparent = `00-${w3cTrace}-00f067aa0ba902b7-01`;
const xrayRoot = '1-5759e988-bd862e3fe1be46a994272793';
const xrayWithParent = `Root=${xrayRoot};Parent=53995c3f42cd8ad8;Sampled=1`;
const xrayRootOnly = `Root=${xrayRoot}`;

/** What a request with `headers` continues, with tracing off: its context's trace id and W3C headers kept. */
async function continued(headers: Record<string, string | string[]>, propagators?: TracePropagator[]) {
  const { runtime } = await startRuntime({
    app: (_req, res) => {
      const context = getRequestContext() as MutableRequestContext;
      res.end(
        JSON.stringify({ traceId: context.traceId ?? null, received: context[propagationSlot] ?? null }),
      );
    },
    logging: { requests: false },
    tracing: { mode: 'off', ...(propagators === undefined ? {} : { propagators }) },
  });
  const response = await get(`${baseUrl(runtime.server!)}/`, { headers });
  return JSON.parse(response.body) as { traceId: string | null; received: Record<string, unknown> | null };
}

describe("a request's trace parent, read from its headers", () => {
  it('comes from a traceparent alone, its tracestate and baggage kept to carry on', async () => {
    expect(await continued({ traceparent, tracestate: 'rojo=1', baggage: 'tenant=acme' })).toEqual({
      traceId: w3cRoot,
      received: { tracestate: 'rojo=1', baggage: 'tenant=acme' },
    });
  });

  it('joins repeated tracestate and baggage headers, and ignores repeated traceparents (ambiguous)', async () => {
    expect(
      await continued({ traceparent, tracestate: ['rojo=1', 'congo=2'], baggage: ['a=1', 'b=2'] }),
    ).toEqual({ traceId: w3cRoot, received: { tracestate: 'rojo=1,congo=2', baggage: 'a=1,b=2' } });
    expect(await continued({ traceparent: [traceparent, traceparent], tracestate: 'rojo=1' })).toEqual({
      traceId: null,
      received: null,
    });
  });

  it('comes from X-Amzn-Trace-Id when both name a parent and xray is listed last', async () => {
    expect(
      await continued(
        { 'x-amzn-trace-id': xrayWithParent, traceparent, tracestate: 'rojo=1', baggage: 'a=1' },
        ['tracecontext', 'baggage', 'xray'],
      ),
    ).toEqual({ traceId: xrayRoot, received: { tracestate: undefined, baggage: 'a=1' } });
  });

  it('comes from the traceparent when both name a parent by default (tracecontext after xray, as ADOT JS)', async () => {
    expect(await continued({ 'x-amzn-trace-id': xrayWithParent, traceparent, tracestate: 'rojo=1' })).toEqual(
      { traceId: w3cRoot, received: { tracestate: 'rojo=1', baggage: undefined } },
    );
  });

  it('keeps the tracestate when both headers name the same span, whichever wins', async () => {
    const same = `Root=${w3cRoot};Parent=00f067aa0ba902b7;Sampled=1`;
    expect(
      await continued({ 'x-amzn-trace-id': same, traceparent, tracestate: 'rojo=1' }, [
        'tracecontext',
        'xray',
      ]),
    ).toEqual({ traceId: w3cRoot, received: { tracestate: 'rojo=1' } });
  });

  it("comes from the traceparent over an X-Amzn-Trace-Id with no Parent (a load balancer's new trace)", async () => {
    // xray last: a header with a Parent would win.
    expect(
      (await continued({ 'x-amzn-trace-id': xrayRootOnly, traceparent }, ['tracecontext', 'xray'])).traceId,
    ).toBe(w3cRoot);
    expect((await continued({ 'x-amzn-trace-id': xrayRootOnly })).traceId).toBe(xrayRoot);
  });

  it('falls back to the other header when one is malformed', async () => {
    expect(
      (
        await continued({ 'x-amzn-trace-id': 'Root=bad;Parent=53995c3f42cd8ad8', traceparent }, [
          'tracecontext',
          'xray',
        ])
      ).traceId,
    ).toBe(w3cRoot);
    // The default order: a well-formed traceparent would win here.
    expect(
      (
        await continued({
          'x-amzn-trace-id': xrayWithParent,
          traceparent: `ff-${w3cTrace}-00f067aa0ba902b7-01`,
        })
      ).traceId,
    ).toBe(xrayRoot);
  });

  it('keeps the Lineage of an X-Amzn-Trace-Id with no Parent when the traceparent wins', async () => {
    const { runtime } = await startRuntime({
      app: (_req, res) => {
        const context = getRequestContext() as MutableRequestContext;
        res.end(JSON.stringify(context[traceParentSlot]));
      },
      logging: { requests: false },
      tracing: { mode: 'off' },
    });
    const response = await get(`${baseUrl(runtime.server!)}/`, {
      headers: { 'x-amzn-trace-id': `${xrayRootOnly};Lineage=a87bd80c:1`, traceparent },
    });
    expect(JSON.parse(response.body)).toMatchObject({
      root: w3cRoot,
      parent: '00f067aa0ba902b7',
      lineage: 'a87bd80c:1',
    });
  });

  it('reads only the headers of the propagators in use', async () => {
    expect(await continued({ traceparent, baggage: 'a=1' }, ['xray'])).toEqual({
      traceId: null,
      received: null,
    });
    expect(await continued({ 'x-amzn-trace-id': xrayWithParent }, ['tracecontext'])).toEqual({
      traceId: null,
      received: null,
    });
    expect(await continued({ traceparent, baggage: 'a=1' }, ['baggage'])).toEqual({
      traceId: null,
      received: { tracestate: undefined, baggage: 'a=1' },
    });
    expect(await continued({ traceparent, tracestate: 'rojo=1', baggage: 'a=1' }, [])).toEqual({
      traceId: null,
      received: null,
    });
  });

  it('drops a tracestate or baggage header W3C says to discard, keeping the other', async () => {
    const members = Array.from({ length: 33 }, (_, i) => `k${i}=v`);
    expect(
      (await continued({ traceparent, tracestate: members.join(','), baggage: `a=${'x'.repeat(8_200)}` }))
        .received,
    ).toBeNull();
    expect((await continued({ traceparent, tracestate: 'rojo=1,rojo=2', baggage: 'a=1' })).received).toEqual({
      baggage: 'a=1',
    });
    expect((await continued({ traceparent, tracestate: 'rojo=1', baggage: 'a b=1' })).received).toEqual({
      tracestate: 'rojo=1',
    });
  });
});
