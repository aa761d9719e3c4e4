import { createHash, createHmac, randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { createServer, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** How a request was signed, as the S3 stand-in recomputed it. */
export interface S3Signature {
  /** `header` (`Authorization`), `query` (a presigned URL) or `none`. */
  readonly kind: 'header' | 'query' | 'none';
  /** The signed header names, as the request listed them (`X-Amz-SignedHeaders`, `SignedHeaders=`). */
  readonly signedHeaders: readonly string[];
  /** The signature the stand-in computed with the secret matches the one sent. */
  readonly valid: boolean;
}

/** One request the S3 stand-in received. */
export interface RecordedS3Request {
  readonly method: string;
  /** The path, `/<bucket>/<key>` (path-style). */
  readonly path: string;
  readonly headers: IncomingHttpHeaders;
  readonly signature: S3Signature;
}

/**
 * S3 on 127.0.0.1, path-style, for the real `@aws-sdk/client-s3` and presigned URLs: objects in
 * memory (`PutObject`, `GetObject`), every request's SigV4 signature recomputed — header-signed and
 * presigned — with the secret `test`. A bad signature is answered as S3 answers it: 403
 * `SignatureDoesNotMatch` with the canonical request and string to sign it computed (and their
 * `…Bytes`), so the session token the request was signed with is in that body, as on AWS.
 * Answers carry `x-amz-request-id` and `x-amz-id-2`.
 */
export interface S3Endpoint {
  /** `http://127.0.0.1:<port>`. */
  readonly url: string;
  /** The requests received, oldest first. */
  requests(): readonly RecordedS3Request[];
  /** Forgets the recorded requests and the objects. */
  reset(): void;
  /** Stops listening and drops every connection. Safe to call twice. */
  close(): Promise<void>;
}

const secretAccessKey = 'test';
const sha256 = (data: string | Buffer) => createHash('sha256').update(data).digest('hex');
const hmac = (key: string | Buffer, data: string) => createHmac('sha256', key).update(data).digest();

/** RFC 3986 encoding, as SigV4 wants it. */
function uriEncode(text: string): string {
  return encodeURIComponent(text).replace(
    /[!'()*]/g,
    (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`,
  );
}

function canonicalQuery(params: readonly (readonly [string, string])[]): string {
  return params
    .map(([name, value]) => [uriEncode(name), uriEncode(value)] as const)
    .sort(([a, x], [b, y]) => (a === b ? (x < y ? -1 : 1) : a < b ? -1 : 1))
    .map(([name, value]) => `${name}=${value}`)
    .join('&');
}

interface Recomputed {
  readonly signature: S3Signature;
  readonly canonicalRequest: string;
  readonly stringToSign: string;
  readonly provided: string;
  readonly accessKeyId: string;
}

/** The SigV4 signature of `req` as S3 recomputes it (S3: the path is not encoded again). */
function recompute(req: IncomingMessage, url: URL): Recomputed | undefined {
  const query = url.searchParams;
  const auth = /Credential=([^,]+), ?SignedHeaders=([^,]+), ?Signature=([0-9a-f]+)/.exec(
    req.headers.authorization ?? '',
  );
  let credential: string;
  let signedHeaders: string;
  let provided: string;
  let amzDate: string;
  let payloadHash: string;
  let kind: S3Signature['kind'];
  if (auth !== null) {
    [, credential, signedHeaders, provided] = auth as unknown as [string, string, string, string];
    amzDate = String(req.headers['x-amz-date'] ?? '');
    payloadHash = String(req.headers['x-amz-content-sha256'] ?? 'UNSIGNED-PAYLOAD');
    kind = 'header';
  } else if (query.has('X-Amz-Signature')) {
    credential = query.get('X-Amz-Credential') ?? '';
    signedHeaders = query.get('X-Amz-SignedHeaders') ?? '';
    provided = query.get('X-Amz-Signature') ?? '';
    amzDate = query.get('X-Amz-Date') ?? '';
    payloadHash = query.get('X-Amz-Content-Sha256') ?? 'UNSIGNED-PAYLOAD';
    kind = 'query';
  } else {
    return undefined;
  }
  const [accessKeyId = '', date = '', region = '', service = ''] = credential.split('/');
  const names = signedHeaders.split(';');
  const headers = names
    .map(
      (name) =>
        `${name}:${String(req.headers[name] ?? '')
          .trim()
          .replace(/\s+/g, ' ')}\n`,
    )
    .join('');
  const params = [...query].filter(([name]) => name !== 'X-Amz-Signature');
  const canonicalRequest = [
    req.method,
    url.pathname,
    canonicalQuery(params),
    headers,
    signedHeaders,
    payloadHash,
  ].join('\n');
  const scope = `${date}/${region}/${service}/aws4_request`;
  const stringToSign = ['AWS4-HMAC-SHA256', amzDate, scope, sha256(canonicalRequest)].join('\n');
  const key = hmac(hmac(hmac(hmac(`AWS4${secretAccessKey}`, date), region), service), 'aws4_request');
  const expected = createHmac('sha256', key).update(stringToSign).digest('hex');
  return {
    signature: { kind, signedHeaders: names, valid: expected === provided },
    canonicalRequest,
    stringToSign,
    provided,
    accessKeyId,
  };
}

const bytes = (text: string) => [...Buffer.from(text)].map((b) => b.toString(16).padStart(2, '0')).join(' ');
const xmlText = (text: string) => text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/** Starts the S3 stand-in on 127.0.0.1, on an ephemeral port. */
export async function startS3Endpoint(): Promise<S3Endpoint> {
  const objects = new Map<string, Buffer>();
  const recorded: RecordedS3Request[] = [];

  function answer(res: ServerResponse, status: number, body: string | Buffer, type?: string): void {
    const requestId = randomUUID().replace(/-/g, '').slice(0, 16).toUpperCase();
    res.writeHead(status, {
      'x-amz-request-id': requestId,
      'x-amz-id-2': `${requestId}/id2`,
      'content-length': Buffer.byteLength(body),
      ...(type === undefined ? {} : { 'content-type': type }),
    });
    res.end(body);
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const computed = recompute(req, url);
    const signature = computed?.signature ?? { kind: 'none', signedHeaders: [], valid: false };
    recorded.push({ method: req.method ?? '', path: url.pathname, headers: req.headers, signature });
    if (computed === undefined) {
      answer(res, 403, '<Error><Code>AccessDenied</Code><Message>Access Denied</Message></Error>');
      return;
    }
    if (!computed.signature.valid) {
      const { canonicalRequest, stringToSign } = computed;
      answer(
        res,
        403,
        '<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>SignatureDoesNotMatch</Code>' +
          '<Message>The request signature we calculated does not match the signature you provided. ' +
          'Check your key and signing method.</Message>' +
          `<AWSAccessKeyId>${xmlText(computed.accessKeyId)}</AWSAccessKeyId>` +
          `<StringToSign>${xmlText(stringToSign)}</StringToSign>` +
          `<SignatureProvided>${computed.provided}</SignatureProvided>` +
          `<StringToSignBytes>${bytes(stringToSign)}</StringToSignBytes>` +
          `<CanonicalRequest>${xmlText(canonicalRequest)}</CanonicalRequest>` +
          `<CanonicalRequestBytes>${bytes(canonicalRequest)}</CanonicalRequestBytes>` +
          '<RequestId>0000000000000000</RequestId><HostId>host-id</HostId></Error>',
        'application/xml',
      );
      return;
    }
    if (req.method === 'PUT') {
      objects.set(url.pathname, Buffer.concat(chunks));
      answer(res, 200, '');
      return;
    }
    const object = objects.get(url.pathname);
    if (req.method === 'GET' && object !== undefined) {
      answer(res, 200, object, 'application/octet-stream');
      return;
    }
    answer(
      res,
      404,
      '<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>NoSuchKey</Code>' +
        '<Message>The specified key does not exist.</Message></Error>',
      'application/xml',
    );
  }

  const server = createServer((req, res) => {
    handle(req, res).catch(() => res.destroy());
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  let closing: Promise<void> | undefined;
  return {
    url: `http://127.0.0.1:${port}`,
    requests: () => [...recorded],
    reset() {
      recorded.length = 0;
      objects.clear();
    },
    close() {
      closing ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      return closing;
    },
  };
}
