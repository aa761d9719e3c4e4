import { type MutableRequestContext, noRequestFields } from '../../src/http/context.js';

/** A request context as the request scope makes one, for tests that enter it by hand. */
export function testRequestContext(
  requestId: string,
  overrides: Partial<MutableRequestContext> = {},
): MutableRequestContext {
  return {
    requestId,
    traceHeader: undefined,
    traceId: undefined,
    route: undefined,
    startedAt: 0,
    debugSampled: false,
    fields: noRequestFields,
    ...overrides,
  };
}
