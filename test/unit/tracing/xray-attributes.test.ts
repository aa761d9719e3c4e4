import type AWSXRayModule from 'aws-xray-sdk-core';
import { beforeAll, describe, expect, it } from 'vitest';
import type { IncomingRequestInfo } from '../../../src/tracing/incoming-request.js';
import {
  addError,
  annotationKey,
  awsResourceFields,
  callFields,
  flagStatus,
  incomingRequestData,
  recordAttributes,
  recordOutcome,
  requestUrl,
  type XrayEntity,
  type XrayFields,
  xrayName,
} from '../../../src/tracing/xray/attributes.js';
import { loadXrayBackend } from '../../../src/tracing/xray/peer.js';
import { loadSdkInternals } from '../../../src/tracing/xray/sdk-internals.js';
import { zodLikeError } from '../../support/xray/errors.js';

let AWSXRay: typeof AWSXRayModule;

beforeAll(async () => {
  // As the kit loads it: in manual mode (no CLS namespace, no async hook in this test process).
  await loadXrayBackend();
  AWSXRay = (await import('aws-xray-sdk-core')).default;
});

/** A real subsegment of a real segment, as the backend makes them. */
function subsegment(): XrayEntity & AWSXRayModule.Subsegment {
  const segment = new AWSXRay.Segment('notes-api');
  const sub = new AWSXRay.Subsegment('call');
  segment.addSubsegment(sub);
  return sub as XrayEntity & AWSXRayModule.Subsegment;
}

function json(entity: AWSXRayModule.Subsegment): Record<string, unknown> {
  return JSON.parse(entity.toString()) as Record<string, unknown>;
}

const info: IncomingRequestInfo = {
  method: 'POST',
  path: '/notes/7',
  scheme: 'https',
  host: 'notes.example.com',
  port: 443,
  clientAddress: '203.0.113.9',
  peerAddress: '10.0.0.1',
  userAgent: 'curl/8',
  protocolVersion: '1.1',
};

describe('names and keys X-Ray accepts', () => {
  it.each([
    ['notes-api', 'notes-api'],
    ['GET /notes/:id', 'GET /notes/:id'],
    ['café load', 'café load'],
    ['a<b>"c"', 'a_b__c_'],
    ['', 'fallback'],
    ['x'.repeat(300), 'x'.repeat(200)],
  ])('name %j → %j', (name, expected) => {
    expect(xrayName(name, 'fallback')).toBe(expected);
  });

  it.each([
    ['user.id', 'user_id'],
    ['user-tier', 'user_tier'],
    ['retry count', 'retry_count'],
    ['ok_1', 'ok_1'],
    ['é', '_'],
    ['', undefined],
  ])('annotation key %j → %j', (key, expected) => {
    expect(annotationKey(key)).toBe(expected);
  });
});

describe('recordAttributes', () => {
  it('makes strings, finite numbers and booleans annotations, and the rest metadata', () => {
    const entity = subsegment();
    recordAttributes(entity, {
      'note.id': '7',
      count: 3,
      cached: false,
      tags: ['a', 'b'],
      ratio: Number.POSITIVE_INFINITY,
      long: 'x'.repeat(1500),
      skipped: undefined,
    });
    expect(json(entity)).toMatchObject({
      annotations: { note_id: '7', count: 3, cached: false, long: 'x'.repeat(1000) },
      metadata: { default: { tags: ['a', 'b'], ratio: 'Infinity' } },
    });
    expect(json(entity).annotations).not.toHaveProperty('skipped');
  });
});

describe('HTTP data', () => {
  it('the request URL has no query and no default port', () => {
    expect(requestUrl(info)).toBe('https://notes.example.com/notes/7');
    expect(requestUrl({ ...info, scheme: 'http', port: 8080 })).toBe('http://notes.example.com:8080/notes/7');
    expect(requestUrl({ ...info, host: undefined, port: undefined })).toBe('https://localhost/notes/7');
  });

  it('the request block says when the client address came from X-Forwarded-For', () => {
    expect(incomingRequestData(info)).toEqual({
      method: 'POST',
      url: 'https://notes.example.com/notes/7',
      client_ip: '203.0.113.9',
      user_agent: 'curl/8',
      x_forwarded_for: true,
    });
    expect(incomingRequestData({ ...info, clientAddress: '10.0.0.1', userAgent: undefined })).toEqual({
      method: 'POST',
      url: 'https://notes.example.com/notes/7',
      client_ip: '10.0.0.1',
    });
  });

  it.each([
    [200, {}],
    [302, {}],
    [404, { error: true }],
    [429, { error: true, throttle: true }],
    [500, { fault: true }],
    [503, { fault: true }],
  ])('status %d flags %j', (status, flags) => {
    const fields: XrayFields = {};
    flagStatus(fields, status);
    expect(fields).toEqual(flags);
  });
});

describe('outgoing calls', () => {
  it('an HTTP call is a remote subsegment named by host, with its URL', () => {
    expect(
      callFields({
        kind: 'http',
        library: 'fetch',
        method: 'GET',
        protocol: 'http:',
        host: '::1',
        port: 8080,
        path: '/x',
      }),
    ).toEqual({
      name: '::1',
      fields: { namespace: 'remote', http: { request: { method: 'GET', url: 'http://[::1]:8080/x' } } },
    });
  });

  it('an AWS call is an aws subsegment named by service, with its operation, request id and retries', () => {
    const call = { kind: 'aws', service: 'DynamoDB', operation: 'GetItem', region: 'eu-west-1' } as const;
    const { name, fields } = callFields(call);
    const entity = Object.assign(subsegment(), fields);
    recordOutcome(entity, call, { statusCode: 200, requestId: 'req-1', attempts: 3 });
    expect(name).toBe('DynamoDB');
    expect(json(entity)).toMatchObject({
      namespace: 'aws',
      aws: { operation: 'GetItem', region: 'eu-west-1', request_id: 'req-1', retries: 2 },
      http: { response: { status: 200 } },
    });
  });

  it('a 4xx AWS error is an error, not a fault; a throttling error a throttle; no answer a fault', () => {
    const call = { kind: 'aws', service: 'S3', operation: 'GetObject', region: undefined } as const;
    const denied = Object.assign(subsegment(), callFields(call).fields);
    recordOutcome(denied, call, {
      statusCode: 403,
      error: Object.assign(new Error('no'), { name: 'AccessDenied' }),
    });
    expect(json(denied)).toMatchObject({
      error: true,
      cause: { exceptions: [{ type: 'AccessDenied', remote: true }] },
    });
    expect(json(denied).fault).toBeUndefined();

    const slow = Object.assign(subsegment(), callFields(call).fields);
    recordOutcome(slow, call, {
      statusCode: 400,
      error: Object.assign(new Error('slow'), { name: 'ThrottlingException' }),
    });
    expect(json(slow)).toMatchObject({ error: true, throttle: true });

    const reset = Object.assign(subsegment(), callFields(call).fields);
    recordOutcome(reset, call, { error: new Error('socket hang up') });
    expect(json(reset)).toMatchObject({ fault: true });
  });
});

describe('addError', () => {
  it.each([
    ['an object without a prototype', () => Object.create(null), '[object Object]'],
    [
      'an error whose stack getter throws',
      () =>
        Object.defineProperty(new Error('db down'), 'stack', {
          get() {
            throw new Error('no stack');
          },
        }),
      'db down',
    ],
    [
      'a revoked Proxy',
      () => {
        const { proxy, revoke } = Proxy.revocable({}, {});
        revoke();
        return proxy;
      },
      'a value that cannot be printed',
    ],
  ])('records %s by its text, never throwing', (_what, thrown, message) => {
    const entity = subsegment();
    addError(entity, thrown());
    expect(entity.fault).toBe(true);
    expect((entity as { cause?: { exceptions: { message: string }[] } }).cause?.exceptions).toEqual([
      expect.objectContaining({ message }),
    ]);
  });
});

describe('addError, bounded', () => {
  type Exceptions = { message: string; type: string; stack?: { path: string }[]; truncated?: number }[];
  const exceptionsOf = (entity: object) => (entity as { cause: { exceptions: Exceptions } }).cause.exceptions;

  it('a ZodError-like error: its type, its message cut, no line of the message taken for a frame', () => {
    const entity = subsegment();
    const error = zodLikeError(100);

    addError(entity, error);

    const [exception] = exceptionsOf(entity);
    expect(exception!.type).toBe('ZodError');
    expect(exception!.message.length).toBeLessThan(2_100);
    expect(exception!.message).toMatch(/characters cut\]$/);
    const frames = error.stack!.split('\n').filter((line) => line.startsWith('    at ')).length;
    expect(exception!.stack).toHaveLength(frames);
    expect(JSON.stringify(exception!.stack)).not.toContain('invalid_type');
    expect(JSON.stringify(json(entity)).length).toBeLessThan(8_000); // 82 KB before
  });

  it('more than 50 frames: 50 recorded, the others counted in truncated', () => {
    const limit = Error.stackTraceLimit;
    Error.stackTraceLimit = 80;
    let error: Error;
    try {
      const recurse = (n: number): Error => (n === 0 ? new Error('deep') : recurse(n - 1));
      error = recurse(100);
    } finally {
      Error.stackTraceLimit = limit;
    }
    const entity = subsegment();
    addError(entity, error);
    expect(exceptionsOf(entity)[0]).toMatchObject({ message: 'deep', truncated: 30 });
    expect(exceptionsOf(entity)[0]!.stack).toHaveLength(50);
  });

  it('a thrown string: cut too', () => {
    const entity = subsegment();
    addError(entity, 'x'.repeat(10_000));
    expect(exceptionsOf(entity)[0]!.message).toBe(`${'x'.repeat(2_048)}… [7952 characters cut]`);
  });

  it('the same error recorded by a span, then by its segment: the segment points at the span’s exception', () => {
    const segment = new AWSXRay.Segment('notes-api');
    const span = new AWSXRay.Subsegment('validate') as XrayEntity & AWSXRayModule.Subsegment;
    segment.addSubsegment(span);
    const error = zodLikeError(100);

    addError(span, error);
    addError(segment as unknown as XrayEntity, error);

    expect((segment as unknown as { cause: unknown }).cause).toEqual({ id: span.id });
  });
});

describe('awsResourceFields', () => {
  it("records a call's resources (a table, a queue) as the SDK's own patcher does, and nothing for others", async () => {
    const fields = awsResourceFields((await loadSdkInternals()).awsAttributes);
    const region = 'eu-west-1';
    // The service map shows them as resource nodes; the subsegment once had the operation alone.
    expect(
      fields(
        {
          kind: 'aws',
          service: 'DynamoDB',
          operation: 'GetItem',
          region,
          input: { TableName: 'notes', Key: {} },
        },
        { ConsumedCapacity: { CapacityUnits: 1 } },
      ),
    ).toMatchObject({ table_name: 'notes' });
    const queueUrl = 'https://sqs.eu-west-1.amazonaws.com/123456789012/orders';
    expect(
      fields(
        {
          kind: 'aws',
          service: 'SQS',
          operation: 'SendMessage',
          region,
          input: { QueueUrl: queueUrl, MessageBody: 'x' },
        },
        { MessageId: 'm-1' },
      ),
    ).toEqual({ queue_url: queueUrl, message_id: 'm-1' });
    // Not whitelisted: nothing, and never the secret's value.
    expect(
      fields(
        {
          kind: 'aws',
          service: 'SecretsManager',
          operation: 'GetSecretValue',
          region,
          input: { SecretId: 'db' },
        },
        { SecretString: 's3cret' },
      ),
    ).toBeUndefined();
  });
});
