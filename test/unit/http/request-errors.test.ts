import type { IncomingMessage, ServerResponse } from 'node:http';
import { setTimeout as delay } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { RequestScope } from '../../../src/http/request-scope.js';
import { getRequestContext, reportRequestError } from '../../../src/index.js';
import { baseUrl, get } from '../../support/http.js';
import { startRuntime, stopRuntimes } from '../../support/runtime.js';

afterEach(stopRuntimes);

/** Runs `fn` in a request of a scope no runtime made. */
function inBareScope<T>(fn: () => T): T {
  const req = { rawHeaders: [], method: 'GET', url: '/' } as unknown as IncomingMessage;
  const res = { headersSent: false, setHeader: () => res, on: () => res } as unknown as ServerResponse;
  return new RequestScope().run(req, res, fn);
}

describe('reportRequestError', () => {
  it('returns false with no kit running, inside a request or outside', () => {
    expect(reportRequestError(new Error('outside'))).toBe(false);
    expect(
      inBareScope(() => [
        reportRequestError(new Error('inside')),
        getRequestContext() as { error?: unknown },
      ]),
    ).toEqual([false, expect.not.objectContaining({ error: expect.anything() })]);
  });

  it('returns false outside a request while a kit runs, and writes nothing', async () => {
    const { logs } = await startRuntime({ app: (_req, res) => res.end() });
    const before = logs.lines.length;
    expect(reportRequestError(new Error('outside'))).toBe(false);
    expect(logs.lines.length).toBe(before);
  });

  it('returns false once the kit stopped', async () => {
    const { runtime } = await startRuntime({ app: (_req, res) => res.end() });
    await runtime.shutdown('test');
    expect(inBareScope(() => reportRequestError(new Error('late')))).toBe(false);
  });

  it("puts the error on the request line as err, at the 500's error level", async () => {
    const seen: boolean[] = [];
    const { runtime, logs } = await startRuntime({
      app: (_req, res) => {
        const cause = new RangeError('the database went away');
        seen.push(reportRequestError(new Error('boom from a route', { cause })));
        seen.push(reportRequestError(undefined));
        seen.push(reportRequestError(null));
        res.statusCode = 500;
        res.end('Internal Server Error');
      },
    });
    const response = await get(`${baseUrl(runtime.server!)}/api/throw`);

    expect(response.status).toBe(500);
    expect(seen).toEqual([true, false, false]);
    const [line] = logs.find('request failed');
    expect(line).toMatchObject({ level: 'error', statusCode: 500, path: '/api/throw' });
    // pino's serializer gives the cause's message and stack with the error's.
    expect(line!.err).toMatchObject({ type: 'Error', message: 'boom from a route: the database went away' });
    expect(String((line!.err as { stack: string }).stack)).toContain('caused by: RangeError');
    expect(logs.find('request error')).toEqual([]);
  });

  it('writes an error reported after the request line on a line of its own, with the request id', async () => {
    let done: Promise<boolean> | undefined;
    const { runtime, logs } = await startRuntime({
      app: (_req, res) => {
        res.end('ok');
        done = delay(50).then(() => reportRequestError(new Error('reported late')));
      },
    });
    await get(`${baseUrl(runtime.server!)}/`);
    expect(await done).toBe(true);

    const [requestLine] = logs.find('request completed');
    expect(requestLine!.err).toBeUndefined();
    const [errorLine] = logs.find('request error');
    expect(errorLine).toMatchObject({ level: 'error', requestId: requestLine!.requestId });
    expect(errorLine!.err).toMatchObject({ message: 'reported late' });
  });
});
