import { describe, expect, it } from 'vitest';
import { createLogger } from '../../../src/logging/logger.js';
import { serializeRequest } from '../../../src/logging/serializers.js';
import { captureLogs } from '../../support/log-capture.js';

describe('serializeRequest', () => {
  it('writes the URL the request came with, not the part a mounted Express router sees (its originalUrl)', () => {
    // As Express hands it to a router mounted at /api: url rewritten, originalUrl kept.
    const mounted = {
      method: 'GET',
      url: '/notes/7?x=1',
      originalUrl: '/api/notes/7?x=1',
      headers: { host: 'h' },
    };
    expect(serializeRequest(mounted)).toMatchObject({ method: 'GET', url: '/api/notes/7', host: 'h' });
    expect(serializeRequest({ method: 'GET', url: '/plain?q=1' })).toMatchObject({ url: '/plain' });
    expect(serializeRequest({ method: 'GET', url: '/x', originalUrl: 42 })).toMatchObject({ url: '/x' });
  });
});

describe('serializeError writes causes', () => {
  const writtenOf = (err: unknown) => written(err);
  function written(err: unknown): Record<string, unknown> {
    const logs = captureLogs();
    createLogger({ service: 'svc', destination: logs, pretty: false }).error({ err }, 'failed');
    return logs.lines[0]!.err as Record<string, unknown>;
  }

  it('that are not errors, with the credential headers censored as on the line itself', () => {
    const err = written(
      new Error('upstream failed', {
        cause: { status: 401, headers: { Authorization: 'Bearer sk_live_123', accept: 'application/json' } },
      }),
    );
    expect(err.cause).toEqual({
      status: 401,
      headers: { Authorization: '[REDACTED]', accept: 'application/json' },
    });
  });

  it('that are not errors: credential headers censored in every usual form, a few levels down', () => {
    const cause = {
      response: { status: 401, headers: new Headers({ Authorization: 'Bearer sk_live_1', accept: 'x' }) },
      headers: [
        ['Cookie', 'session=sk_live_2'],
        ['accept', 'y'],
      ],
      rawHeaders: ['X-API-Key', 'sk_live_3', 'Host', 'api'],
    };
    const written = JSON.stringify(writtenOf(new Error('upstream', { cause })).cause);
    expect(written).not.toMatch(/sk_live/);
    expect(JSON.parse(written)).toEqual({
      response: { status: 401, headers: { authorization: '[REDACTED]', accept: 'x' } },
      headers: [
        ['Cookie', '[REDACTED]'],
        ['accept', 'y'],
      ],
      rawHeaders: ['X-API-Key', '[REDACTED]', 'Host', 'api'],
    });
  });

  it('that are class instances or hold arrays: their headers censored too', () => {
    class HttpFailure {
      status = 401;
      headers = { authorization: 'Bearer sk_live_4' };
    }
    const cause = { failure: new HttpFailure(), attempts: [{ headers: { Cookie: 'sid=sk_live_5' } }] };
    const err = writtenOf(new Error('upstream', { cause }));
    expect(JSON.stringify(err.cause)).not.toMatch(/sk_live/);
    expect(err.cause).toEqual({
      failure: { status: 401, headers: { authorization: '[REDACTED]' } },
      attempts: [{ headers: { Cookie: '[REDACTED]' } }],
    });
  });

  it('that are array subclasses or typed arrays: as JSON writes them, no constructor of theirs run', () => {
    class Attempts extends Array<unknown> {
      constructor(...items: unknown[]) {
        if (items.length === 1 && typeof items[0] === 'number') throw new Error('species ctor');
        super(...items);
      }
    }
    const attempts = new Attempts({ headers: { authorization: 'Bearer sk_live_6' } }, { status: 503 });
    expect(writtenOf(new Error('a', { cause: attempts })).cause).toEqual([
      { headers: { authorization: '[REDACTED]' } },
      { status: 503 },
    ]);
    expect(writtenOf(new Error('b', { cause: new Uint8Array([1, 2]) })).cause).toEqual({ 0: 1, 1: 2 });
  });

  it('that are not plain objects, as JSON writes them; a cycle as a mark, the rest kept', () => {
    class Money {
      constructor(readonly cents: number) {}
      toJSON(): string {
        return (this.cents / 100).toFixed(2);
      }
    }
    const looped: Record<string, unknown> = { status: 503, code: 'UPSTREAM' };
    looped.self = looped;
    expect(writtenOf(new Error('a', { cause: new Date(0) })).cause).toBe('1970-01-01T00:00:00.000Z');
    expect(writtenOf(new Error('b', { cause: new URL('http://x/y') })).cause).toBe('http://x/y');
    expect(writtenOf(new Error('c', { cause: [1, [2, 3]] })).cause).toEqual([1, [2, 3]]);
    expect(writtenOf(new Error('d', { cause: new Money(100) })).cause).toBe('1.00');
    expect(writtenOf(new Error('e', { cause: looped })).cause).toEqual({
      status: 503,
      code: 'UPSTREAM',
      self: '[Circular]',
    });
  });

  it('that cannot be read or written: the error is still written whole, the cause saying why', () => {
    const hostile = new Proxy(
      {},
      {
        getPrototypeOf: () => {
          throw new Error('trap');
        },
        ownKeys: () => {
          throw new Error('trap');
        },
      },
    );
    const proxied = written(new Error('proxied', { cause: hostile }));
    expect(proxied).toMatchObject({ type: 'Error', message: 'proxied' });
    expect(proxied.cause).toEqual({ serializationError: 'trap' });

    const throwing = {
      ok: 1,
      get lazy(): unknown {
        throw new Error('not loaded');
      },
    };
    expect(written(new Error('getter', { cause: throwing }))).toMatchObject({
      message: 'getter',
      cause: { ok: 1, serializationError: 'not loaded' },
    });
    const unwritable = {
      nested: {
        toJSON: () => {
          throw new Error('no json');
        },
      },
    };
    expect(written(new Error('json', { cause: unwritable }))).toMatchObject({
      message: 'json',
      cause: { serializationError: 'no json' },
    });
  });

  it('that are not errors, as they are (pino wrote no trace of them)', () => {
    expect(written(new Error('upload failed', { cause: 'quota exceeded' })).cause).toBe('quota exceeded');
    expect(written(new Error('upload failed', { cause: { status: 503 } })).cause).toEqual({ status: 503 });
    expect(written(new Error('upload failed', { cause: Symbol('quota') })).cause).toBe('Symbol(quota)');
  });

  it("that are errors, with their own fields (fetch's code), their stack left to the outer error's", () => {
    const refused = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), {
      code: 'ECONNREFUSED',
      errno: -111,
      syscall: 'connect',
    });
    const err = written(new TypeError('fetch failed', { cause: refused }));
    expect(err.cause).toEqual({
      type: 'Error',
      message: 'connect ECONNREFUSED 127.0.0.1:1',
      code: 'ECONNREFUSED',
      errno: -111,
      syscall: 'connect',
    });
    // pino's text stays: the outer stack goes on with its causes'.
    expect(err.stack).toMatch(/caused by: Error: connect ECONNREFUSED/);
  });

  it('that go round in a circle, or 10,000 deep, within a bound', () => {
    const a = new Error('a');
    const b = new Error('b', { cause: a });
    a.cause = b;
    expect(written(a).cause).toEqual({ type: 'Error', message: 'b', cause: '[Circular]' });

    let deep = new Error('root');
    for (let i = 0; i < 10_000; i++) deep = new Error(`e${i}`, { cause: deep });
    let cause = written(deep).cause;
    let depth = 0;
    while (typeof cause === 'object' && cause !== null) {
      cause = (cause as { cause?: unknown }).cause;
      depth++;
    }
    expect(depth).toBe(7);
    expect(cause).toBe('[causes left out]');
  });

  it("of a DOMException, without the 25 constants it inherits (an AbortSignal's reason)", () => {
    const err = written(new DOMException('The operation was aborted due to timeout', 'TimeoutError'));
    expect(err).toMatchObject({ type: 'DOMException', name: 'TimeoutError' });
    expect(Object.keys(err).filter((key) => key.endsWith('_ERR'))).toEqual([]);
  });
});

describe('serializeError of AWS SDK errors', () => {
  const token = 'IQoJb3JpZ2luX2VjEXAMPLEsessionTOKEN';
  function written(err: unknown): { err: Record<string, unknown>; line: string } {
    const logs = captureLogs();
    createLogger({ service: 'svc', destination: logs, pretty: false }).error({ err }, 'failed');
    return { err: logs.lines[0]!.err as Record<string, unknown>, line: JSON.stringify(logs.lines[0]) };
  }
  /** As the SDK builds S3's SignatureDoesNotMatch: the body's fields copied onto the error. */
  function signatureDoesNotMatch(): Error {
    const canonical = `GET\n/notes/n1\n\nhost:s3.amazonaws.com\nx-amz-security-token:${token}\n\nhost;x-amz-security-token\nUNSIGNED-PAYLOAD`;
    return Object.assign(
      new Error('The request signature we calculated does not match the signature you provided.'),
      {
        name: 'SignatureDoesNotMatch',
        $fault: 'client',
        $metadata: { httpStatusCode: 403, requestId: 'R1', extendedRequestId: 'X1', attempts: 1 },
        Code: 'SignatureDoesNotMatch',
        AWSAccessKeyId: 'ASIATESTKEY',
        StringToSign: 'AWS4-HMAC-SHA256\n20260101T000000Z\n20260101/us-east-1/s3/aws4_request\nabc',
        SignatureProvided: 'deadbeef',
        StringToSignBytes: '41 57 53',
        CanonicalRequest: canonical,
        CanonicalRequestBytes: [...Buffer.from(canonical)].map((b) => b.toString(16)).join(' '),
        RequestId: 'R1',
        HostId: 'X1',
      },
    );
  }

  it('leave out the signing details S3 answers a bad signature with, itself or as a cause', () => {
    const alone = written(signatureDoesNotMatch());
    const nested = written(new Error('load failed', { cause: signatureDoesNotMatch() }));
    for (const fields of [alone.err, nested.err.cause as Record<string, unknown>]) {
      expect(fields).toMatchObject({ Code: 'SignatureDoesNotMatch', RequestId: 'R1', HostId: 'X1' });
      expect(Object.keys(fields).filter((key) => /^(Canonical|StringToSign|Signature)/.test(key))).toEqual(
        [],
      );
    }
    expect(alone.line).not.toContain(token);
    expect(nested.line).not.toContain(token);
  });

  it('mask a session token a message quotes (a canonical string), in the stack of the error it causes too', () => {
    const quoted = Object.assign(
      new Error(
        `Signature mismatch. The Canonical String should have been 'POST\n/\n\nx-amz-security-token:${token}\n'`,
      ),
      { name: 'InvalidSignatureException', $fault: 'client', $metadata: { httpStatusCode: 400 } },
    );
    const { err, line } = written(new Error('load failed', { cause: quoted }));
    expect(line).not.toContain(token);
    expect(err.stack).toContain('x-amz-security-token:[REDACTED]');
  });
});
