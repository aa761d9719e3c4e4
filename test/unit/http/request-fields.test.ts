import type { IncomingMessage, ServerResponse } from 'node:http';
import { setTimeout as delay } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import type { MutableRequestContext } from '../../../src/http/context.js';
import { RequestScope } from '../../../src/http/request-scope.js';
import { addRequestFields, getRequestContext, requestFieldLimits } from '../../../src/index.js';
import { redactedText, redaction } from '../../../src/logging/redaction.js';
import { baseUrl, get } from '../../support/http.js';
import { startRuntime, stopRuntimes } from '../../support/runtime.js';

afterEach(stopRuntimes);

/** A request scope on a fake request, recording what it was told of dropped fields. */
function inRequest<T>(fn: () => T): { result: T; warnings: string[][]; headers: Map<string, unknown> } {
  const warnings: string[][] = [];
  const headers = new Map<string, unknown>();
  const scope = new RequestScope({
    fieldsDropped: (_context: MutableRequestContext, dropped) => warnings.push([...dropped]),
  });
  const req = { rawHeaders: [], method: 'GET', url: '/' } as unknown as IncomingMessage;
  const res = {
    headersSent: false,
    setHeader: (name: string, value: unknown) => headers.set(name, value),
    on: () => res,
  } as unknown as ServerResponse;
  const result = scope.run(req, res, fn);
  return { result, warnings, headers };
}

describe('addRequestFields', () => {
  it('returns false and does nothing outside a request', () => {
    expect(addRequestFields({ tenant: 'acme' })).toBe(false);
    expect(getRequestContext()).toBeUndefined();
  });

  it('merges fields into the request context: later values win, undefined removes', () => {
    const { result, warnings } = inRequest(() => {
      expect(getRequestContext()?.fields).toEqual({});
      expect(addRequestFields({ tenant: 'acme', userId: 7 })).toBe(true);
      expect(addRequestFields({ tenant: 'globex', admin: false, plan: null })).toBe(true);
      expect(addRequestFields({ userId: undefined })).toBe(true);
      return getRequestContext()?.fields;
    });
    expect(result).toEqual({ tenant: 'globex', admin: false, plan: null });
    expect(Object.isFrozen(result)).toBe(true);
    expect(warnings).toEqual([]);
  });

  it('drops reserved names, unsupported or overlong values and names, with one warning per request', () => {
    const long = 'x'.repeat(requestFieldLimits.maxValueLength + 1);
    const { result, warnings } = inRequest(() => {
      addRequestFields({
        requestId: 'forged',
        traceId: 'forged',
        message: 'forged', // either key of a line's message (logging.messageKey)
        statusCode: 1,
        ok: 'kept',
        long,
        fine: 'y'.repeat(requestFieldLimits.maxValueLength),
        nan: Number.NaN,
        nested: { a: 1 } as unknown as string,
        ['n'.repeat(requestFieldLimits.maxNameLength + 1)]: 1,
      });
      addRequestFields({ '': 'empty name', spanId: 'forged', '2024': 'an index', '0': 'another' });
      addRequestFields({ cut: 'emoji cut in half \ud83d' });
      return getRequestContext()?.fields;
    });
    expect(Object.keys(result!)).toEqual(['ok', 'fine', 'cut']);
    expect(result!.cut).toBe('emoji cut in half \ufffd');
    expect(warnings).toEqual([
      [
        'requestId',
        'traceId',
        'message',
        'statusCode',
        'long',
        'nan',
        'nested',
        'n'.repeat(requestFieldLimits.maxNameLength + 1),
      ],
    ]);
  });

  it('drops __proto__ (from a parsed body) and the names of a cut line, truncated and lineBytes, saying so', () => {
    const { result, warnings } = inRequest(() => {
      addRequestFields(JSON.parse('{"__proto__":"from a body","truncated":true,"lineBytes":5,"ok":1}'));
      return getRequestContext()?.fields;
    });
    expect(result).toEqual({ ok: 1 });
    expect(Object.getPrototypeOf(result)).toBe(Object.prototype);
    expect(warnings).toEqual([['__proto__', 'truncated', 'lineBytes']]);
  });

  it(`keeps at most ${requestFieldLimits.maxFields} fields; replacing one past the limit still works`, () => {
    const { result, warnings } = inRequest(() => {
      const many = Object.fromEntries(
        Array.from({ length: requestFieldLimits.maxFields + 3 }, (_, i) => [`f${i}`, i]),
      );
      addRequestFields(many);
      addRequestFields({ f0: 'replaced' });
      return getRequestContext()?.fields;
    });
    expect(Object.keys(result!)).toHaveLength(requestFieldLimits.maxFields);
    expect(result!.f0).toBe('replaced');
    expect(warnings).toEqual([
      [
        `f${requestFieldLimits.maxFields}`,
        `f${requestFieldLimits.maxFields + 1}`,
        `f${requestFieldLimits.maxFields + 2}`,
      ],
    ]);
  });
});

describe('request fields on log lines', () => {
  it("reach the app's lines, a child logger's lines after an await, and the request line; not another request's", async () => {
    const { runtime, logs } = await startRuntime({
      app: async (req, res) => {
        const tenant = req.url!.slice(1);
        addRequestFields({ tenant });
        runtime.logger.info('in handler');
        await delay(tenant === 'a' ? 30 : 5);
        runtime.logger.child({ module: 'repo' }).info('after await');
        res.end(tenant);
      },
    });
    const url = baseUrl(runtime.server!);
    await Promise.all([get(`${url}/a`), get(`${url}/b`)]);

    for (const tenant of ['a', 'b']) {
      const requestLine = logs.find('request completed').find((l) => l.path === `/${tenant}`)!;
      const own = logs.lines.filter((l) => l.requestId === requestLine.requestId);
      expect(own.map((l) => l.msg).sort()).toEqual(['after await', 'in handler', 'request completed']);
      for (const line of own) expect(line.tenant, String(line.msg)).toBe(tenant);
    }
  });

  it('are masked where they hold a registered secret value', async () => {
    const secret = 'field-secret-4b1c9e';
    redaction.addValue(secret);
    const { runtime, logs } = await startRuntime({
      app: (_req, res) => {
        addRequestFields({ token: `Bearer ${secret}` });
        runtime.logger.info('with token');
        res.end();
      },
    });
    await get(`${baseUrl(runtime.server!)}/`);
    const lines = [logs.find('with token')[0]!, logs.find('request completed')[0]!];
    for (const line of lines) expect(line.token).toBe(`Bearer ${redactedText}`);
  });

  it('bound the warning: ten names of at most 64 characters, and how many more', async () => {
    const { runtime, logs } = await startRuntime({
      app: (_req, res) => {
        addRequestFields(
          Object.fromEntries(Array.from({ length: 50 }, (_, i) => [`${'n'.repeat(100)}${i}`, 1])),
        );
        res.end();
      },
    });
    await get(`${baseUrl(runtime.server!)}/`);
    const [warning] = logs.lines.filter((l) => String(l.msg).startsWith('addRequestFields dropped'));
    expect(warning).toMatchObject({ droppedCount: 50 });
    expect(warning!.dropped).toHaveLength(10);
    for (const name of warning!.dropped as string[]) expect(name).toBe(`${'n'.repeat(64)}…`);
    expect(warning!.msg).toContain('and 40 more');
    expect(JSON.stringify(warning).length).toBeLessThan(2_000);
  });

  it('write one warning line, within the request, when fields are dropped', async () => {
    const { runtime, logs } = await startRuntime({
      app: (_req, res) => {
        addRequestFields({ requestId: 'forged' });
        addRequestFields({ msg: 'forged' });
        res.end();
      },
    });
    await get(`${baseUrl(runtime.server!)}/`);
    const warnings = logs.lines.filter((l) => String(l.msg).startsWith('addRequestFields dropped'));
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatchObject({ level: 'warn', dropped: ['requestId'] });
    expect(warnings[0]!.requestId).toBe(logs.find('request completed')[0]!.requestId);
  });
});
