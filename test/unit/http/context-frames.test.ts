import { setTimeout as delay } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import {
  getRequestContext,
  type MutableRequestContext,
  runInScope,
  runWithRequestContext,
  scopedValue,
  setTracingState,
  tracingState,
} from '../../../src/http/context.js';
import { testRequestContext } from '../../support/request-context.js';

const context = (requestId: string): MutableRequestContext => testRequestContext(requestId);

describe('scopes nested in the request context', () => {
  it('keep the request visible inside them, across async hops', async () => {
    const owner = {};
    const request = context('req-a');
    const seen = await runWithRequestContext(request, () =>
      runInScope(owner, 'span-1', async () => {
        await delay(1);
        return [getRequestContext()?.requestId, scopedValue(owner)];
      }),
    );
    expect(seen).toEqual(['req-a', 'span-1']);
  });

  it('find the innermost scope of an owner past the scopes of other owners', () => {
    const otel = {};
    const xray = {};
    const seen = runWithRequestContext(context('req-b'), () =>
      runInScope(otel, 'outer', () =>
        runInScope(otel, 'inner', () =>
          runInScope(xray, 'segment', () => [scopedValue(otel), scopedValue(xray), scopedValue({})]),
        ),
      ),
    );
    expect(seen).toEqual(['inner', 'segment', undefined]);
  });

  it('end where a request starts: a request inside a scope sees none of it', () => {
    const owner = {};
    const seen = runInScope(owner, 'startup span', () =>
      runWithRequestContext(context('req-c'), () => [getRequestContext()?.requestId, scopedValue(owner)]),
    );
    expect(seen).toEqual(['req-c', undefined]);
  });
});

describe('tracing state on a request context', () => {
  it('is read back only by the backend that kept it', () => {
    const request = context('req-d');
    const mine = {};
    const other = {};
    setTracingState(request, mine, { span: 1 });
    expect(tracingState(request, mine)).toEqual({ span: 1 });
    expect(tracingState(request, other)).toBeUndefined();
    expect(JSON.parse(JSON.stringify(request))).not.toHaveProperty('span');
  });
});
