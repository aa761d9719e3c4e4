import { setTimeout as delay } from 'node:timers/promises';
import { GetObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { NodeRequestListener } from '../../../src/index.js';
import { applyEnv, awsClientEnv, type S3Endpoint, startS3Endpoint } from '../../support/aws-endpoint.js';
import { baseUrl, get } from '../../support/http.js';
import { type OtlpCollector, startOtlpCollector } from '../../support/otlp-collector.js';
import { startRuntime, stopRuntimes, type TestRuntime } from '../../support/runtime.js';
import { startXRayDaemon, type XRayDaemon } from '../../support/xray-daemon.js';
import { startTraced } from './support.js';
import { childrenOf, startXray } from './xray-support.js';

let s3: S3Endpoint;
let daemon: XRayDaemon;
let collector: OtlpCollector;
let restoreEnv: () => void;

beforeAll(async () => {
  s3 = await startS3Endpoint();
  daemon = await startXRayDaemon();
  collector = await startOtlpCollector({ grpc: false });
  restoreEnv = applyEnv(awsClientEnv(s3));
});

afterEach(async () => {
  await stopRuntimes();
  s3.reset();
  daemon.clear();
  collector.clear();
});

afterAll(async () => {
  restoreEnv();
  await s3.close();
  await daemon.close();
  await collector.close();
});

/** A session token, as App Runner's, ECS's and EKS's temporary credentials always carry one. */
const sessionToken = 'IQoJb3JpZ2luX2VjEXAMPLEsessionTOKEN';

function s3Client(secretAccessKey = 'test'): S3Client {
  return new S3Client({
    endpoint: s3.url,
    forcePathStyle: true,
    region: 'us-east-1',
    credentials: { accessKeyId: 'ASIATESTKEY', secretAccessKey, sessionToken },
    maxAttempts: 1,
  });
}

type Mode = 'off' | 'xray' | 'otel';

/** A runtime in `mode` whose app `app` builds, given the runtime. */
function startIn(mode: Mode, app: (runtime: TestRuntime['runtime']) => NodeRequestListener) {
  if (mode === 'xray') return startXray(daemon, app);
  if (mode === 'otel') return startTraced(collector, 'http/json', app);
  let started: TestRuntime | undefined;
  return startRuntime({ app: (req, res) => app(started!.runtime)(req, res) }).then((runtime) => {
    started = runtime;
    return runtime;
  });
}

/** The S3 calls the backend of `mode` recorded: subsegment or span names. */
async function recordedCalls(mode: Mode, runtime: TestRuntime['runtime']): Promise<string[]> {
  await runtime.tracer.flush();
  if (mode === 'xray') {
    await daemon.waitFor((d) => d.segments.length === 1);
    return childrenOf(daemon, daemon.segments[0]!.id).map((s) => s.name);
  }
  if (mode === 'otel') {
    await collector.waitForSpans(1);
    await delay(100);
    return collector.spans.filter((s) => s.kind === 'client').map((s) => s.name);
  }
  return [];
}

const kitHeaders = ['x-request-id', 'traceparent', 'tracestate', 'baggage', 'x-amzn-trace-id'];

describe.each<Mode>(['off', 'xray', 'otel'])('an instrumented S3 client, tracing %s', (mode) => {
  it('presigned GET and PUT URLs made inside a request work for a client that sends no header of the kit; no span for them', async () => {
    const { runtime } = await startIn(mode, (rt) => {
      const client = rt.tracer.instrumentAwsClient(s3Client());
      return async (_req, res) => {
        const put = await getSignedUrl(client, new PutObjectCommand({ Bucket: 'notes', Key: 'n1' }), {
          expiresIn: 300,
        });
        const read = await getSignedUrl(client, new GetObjectCommand({ Bucket: 'notes', Key: 'n1' }), {
          expiresIn: 300,
        });
        res.end(JSON.stringify({ put, read }));
      };
    });
    expect(runtime.tracer.mode).toBe(mode);
    const { put, read } = JSON.parse((await get(`${baseUrl(runtime.server!)}/`)).body) as Record<
      string,
      string
    >;

    // A browser's upload and download: only the URL.
    const uploaded = await fetch(put!, { method: 'PUT', body: 'note body' });
    const downloaded = await fetch(read!);

    expect([uploaded.status, downloaded.status]).toEqual([200, 200]);
    expect(await downloaded.text()).toBe('note body');
    expect(new URL(put!).searchParams.get('X-Amz-SignedHeaders')).toBe('host');
    expect(new URL(read!).searchParams.get('X-Amz-SignedHeaders')).toBe('host');
    expect(await recordedCalls(mode, runtime)).toEqual([]);
  });

  it("a call signs none of the kit's headers, yet carries them; a proxy rewriting them breaks nothing", async () => {
    const { runtime } = await startIn(mode, (rt) => {
      const client = rt.tracer.instrumentAwsClient(s3Client());
      return async (_req, res) => {
        await client.send(new PutObjectCommand({ Bucket: 'notes', Key: 'n2', Body: 'body' }));
        res.end();
      };
    });
    await get(`${baseUrl(runtime.server!)}/`, { headers: { 'x-request-id': 'req-42' } });

    const [call] = s3.requests();
    expect(call!.signature).toMatchObject({ kind: 'header', valid: true });
    expect(call!.signature.signedHeaders.filter((name) => kitHeaders.includes(name))).toEqual([]);
    expect(call!.headers['x-request-id']).toBe('req-42');
    if (mode !== 'off') expect(call!.headers.traceparent).toMatch(/^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/);
    if (mode === 'otel') {
      await runtime.tracer.flush();
      const spans = await collector.waitForSpans(2);
      expect(spans.find((s) => s.name === 'S3.PutObject')?.attributes).toMatchObject({
        'aws.extended_request_id': expect.stringMatching(/^[0-9A-F]{16}\/id2$/),
      });
    }
  });
});

describe('X-Ray subsegments of S3 calls', () => {
  it('record id_2 (x-amz-id-2) and the response content_length, as the X-Ray SDK does', async () => {
    const { runtime } = await startXray(daemon, (rt) => {
      const client = rt.tracer.instrumentAwsClient(s3Client());
      return async (_req, res) => {
        await client.send(new PutObjectCommand({ Bucket: 'notes', Key: 'n3', Body: 'thirteen char' }));
        const object = await client.send(new GetObjectCommand({ Bucket: 'notes', Key: 'n3' }));
        res.end(await object.Body!.transformToString());
      };
    });
    expect((await get(`${baseUrl(runtime.server!)}/`)).body).toBe('thirteen char');
    await runtime.tracer.flush();
    await daemon.waitFor((d) => d.segments.length === 1);

    const [, read] = childrenOf(daemon, daemon.segments[0]!.id);
    const answered = s3.requests()[1]!;
    expect(read!.document).toMatchObject({
      namespace: 'aws',
      aws: { operation: 'GetObject', bucket_name: 'notes', key: 'n3' },
      http: { response: { status: 200, content_length: 13 } },
    });
    expect((read!.document.aws as { id_2?: string }).id_2).toMatch(/^[0-9A-F]{16}\/id2$/);
    expect(answered.method).toBe('GET');
  });
});

describe("an S3 error logged with the kit's logger", () => {
  it('SignatureDoesNotMatch: the canonical request S3 sends back (with the session token) stays out of the line', async () => {
    const { runtime, logs } = await startRuntime({
      app: async (_req, res) => {
        try {
          await client.send(new GetObjectCommand({ Bucket: 'notes', Key: 'n4' }));
        } catch (err) {
          runtime.logger.error({ err }, 'S3 read failed');
        }
        res.end();
      },
    });
    const client = runtime.tracer.instrumentAwsClient(s3Client('not-the-secret'));
    await get(`${baseUrl(runtime.server!)}/`);

    const [line] = logs.find('S3 read failed');
    const err = line!.err as Record<string, unknown>;
    expect(err).toMatchObject({
      type: 'S3ServiceException',
      name: 'SignatureDoesNotMatch',
      Code: 'SignatureDoesNotMatch',
      $metadata: { httpStatusCode: 403 },
    });
    expect(Object.keys(err).filter((key) => /^(Canonical|StringToSign|Signature)/.test(key))).toEqual([]);
    expect(JSON.stringify(logs.lines)).not.toContain(sessionToken);
  });
});
