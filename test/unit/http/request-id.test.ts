import type { IncomingMessage, ServerResponse } from 'node:http';
import { describe, expect, it } from 'vitest';
import { getRequestContext } from '../../../src/http/context.js';
import { isPlainRequestId, isValidRequestId } from '../../../src/http/request-id.js';
import { RequestScope } from '../../../src/http/request-scope.js';

describe('request ids', () => {
  it('adopts visible ASCII up to 128 characters, and calls plain only what needs no JSON escaping', () => {
    const cases: [string, boolean, boolean][] = [
      ['b3459ea7-daf0-469e-8b48-c1dd2b3cf298', true, true],
      ['Root=1-abc;!#$%&()*+,./:<=>?@[]^_`{|}~', true, true],
      ['a"b', true, false],
      ['a\\b', true, false],
      ['x'.repeat(128), true, true],
      ['x'.repeat(129), false, false],
      ['', false, false],
      ['has space', false, false],
      ['tab\there', false, false],
      ['é', false, false],
    ];
    for (const [id, valid, plain] of cases) {
      expect(isValidRequestId(id), id).toBe(valid);
      if (valid) expect(isPlainRequestId(id), id).toBe(plain);
    }
  });
});

describe("RequestScope.run's requestId, the framework's id", () => {
  /** The id a request gets, given the framework's and an `x-request-id` header, and the id echoed. */
  function idOf(frameworkId: string | undefined, header?: string) {
    const headers = new Map<string, unknown>();
    const req = {
      rawHeaders: header === undefined ? [] : ['X-Request-Id', header],
      method: 'GET',
      url: '/',
    } as unknown as IncomingMessage;
    const res = {
      headersSent: false,
      writeHead: () => res,
      setHeader: (name: string, value: unknown) => headers.set(name, value),
      on: () => res,
    } as unknown as ServerResponse;
    Object.defineProperty(res, 'writeHead', { value: () => res, enumerable: true });
    const id = new RequestScope().run(req, res, () => getRequestContext()?.requestId, frameworkId);
    return { id, echoed: headers.get('x-request-id') };
  }

  it("is taken when well formed and the caller sent no id of its own; the caller's wins", () => {
    expect(idOf('order-1')).toEqual({ id: 'order-1', echoed: 'order-1' });
    expect(idOf('order-1', 'from-the-caller')).toEqual({
      id: 'from-the-caller',
      echoed: 'from-the-caller',
    });
    for (const bad of ['line\r\nbreak', 'x'.repeat(129)]) {
      const made = idOf(bad);
      expect(made.id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4/);
      expect(made.echoed).toBe(made.id);
    }
    expect(idOf(undefined, 'from-the-caller').id).toBe('from-the-caller');
  });

  it('takes an id requestIdFor made for the request as it is', () => {
    const scope = new RequestScope();
    const req = { rawHeaders: [], method: 'GET', url: '/' } as unknown as IncomingMessage;
    const res = { headersSent: true, on: () => res } as unknown as ServerResponse;
    const made = scope.requestIdFor(req);
    expect(made).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4/);
    expect(scope.run(req, res, () => getRequestContext()?.requestId, made)).toBe(made);
    const adopted = { ...req, rawHeaders: ['x-request-id', 'from-the-caller'] } as unknown as IncomingMessage;
    expect(scope.requestIdFor(adopted)).toBe('from-the-caller');
  });
});
