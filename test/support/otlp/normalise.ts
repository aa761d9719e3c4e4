/** An attribute value: ints and doubles become numbers, bytes base64, arrays and kvlists nest. */
export type OtlpValue =
  | string
  | number
  | boolean
  | null
  | readonly OtlpValue[]
  | { readonly [key: string]: OtlpValue };

/** Attributes as a plain object. */
export type OtlpAttributes = Readonly<Record<string, OtlpValue>>;

/** OTLP's span kinds, by name (the wire numbers are 0–5, not the OTel API's enum). */
export type CollectedSpanKind = 'unspecified' | 'internal' | 'server' | 'client' | 'producer' | 'consumer';

/** How the span reached the collector. */
export type OtlpTransport = 'http/json' | 'http/protobuf' | 'grpc';

/** One span in one shape, whichever transport and encoding carried it. */
export interface CollectedSpan {
  /** 32 lowercase hex digits. */
  readonly traceId: string;
  /** 16 lowercase hex digits. */
  readonly spanId: string;
  /** undefined for a root span. */
  readonly parentSpanId: string | undefined;
  readonly name: string;
  readonly kind: CollectedSpanKind;
  readonly traceState: string | undefined;
  readonly startTimeUnixNano: bigint;
  readonly endTimeUnixNano: bigint;
  readonly attributes: OtlpAttributes;
  readonly events: readonly {
    readonly name: string;
    readonly timeUnixNano: bigint;
    readonly attributes: OtlpAttributes;
  }[];
  readonly links: readonly {
    readonly traceId: string;
    readonly spanId: string;
    readonly attributes: OtlpAttributes;
  }[];
  readonly status: { readonly code: 'unset' | 'ok' | 'error'; readonly message: string | undefined };
  readonly resource: OtlpAttributes;
  readonly scope: { readonly name: string; readonly version: string | undefined };
  readonly transport: OtlpTransport;
}

const KINDS: readonly CollectedSpanKind[] = [
  'unspecified',
  'internal',
  'server',
  'client',
  'producer',
  'consumer',
];
const KIND_NAMES: Readonly<Record<string, CollectedSpanKind>> = {
  SPAN_KIND_UNSPECIFIED: 'unspecified',
  SPAN_KIND_INTERNAL: 'internal',
  SPAN_KIND_SERVER: 'server',
  SPAN_KIND_CLIENT: 'client',
  SPAN_KIND_PRODUCER: 'producer',
  SPAN_KIND_CONSUMER: 'consumer',
};
const STATUS_CODES = ['unset', 'ok', 'error'] as const;
const STATUS_NAMES: Readonly<Record<string, number>> = {
  STATUS_CODE_UNSET: 0,
  STATUS_CODE_OK: 1,
  STATUS_CODE_ERROR: 2,
};

type Json = Readonly<Record<string, unknown>>;

function record(value: unknown): Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Json) : {};
}

function list(value: unknown): Json[] {
  return Array.isArray(value) ? value.map(record) : [];
}

/** Ids arrive as bytes (protobuf) or hex strings (OTLP/JSON); an empty id means "none". */
function hexId(value: unknown): string | undefined {
  if (value instanceof Uint8Array) return value.length === 0 ? undefined : Buffer.from(value).toString('hex');
  if (typeof value === 'string' && value !== '') return value.toLowerCase();
  return undefined;
}

/** 64-bit integers arrive as bigint (protobuf), or as string or number (OTLP/JSON). */
function bigInteger(value: unknown): bigint {
  if (typeof value === 'bigint') return value;
  if (typeof value === 'number') return BigInt(Math.trunc(value));
  if (typeof value === 'string' && /^-?\d+$/.test(value)) return BigInt(value);
  return 0n;
}

function anyValue(value: Json): OtlpValue {
  if ('stringValue' in value) return String(value.stringValue);
  if ('boolValue' in value) return value.boolValue === true;
  if ('intValue' in value) return Number(bigInteger(value.intValue));
  if ('doubleValue' in value) return Number(value.doubleValue);
  if ('arrayValue' in value) return list(record(value.arrayValue).values).map(anyValue);
  if ('kvlistValue' in value) return attributes(record(value.kvlistValue).values);
  if ('bytesValue' in value) {
    const bytes = value.bytesValue;
    return bytes instanceof Uint8Array ? Buffer.from(bytes).toString('base64') : String(bytes);
  }
  return null;
}

function attributes(value: unknown): OtlpAttributes {
  return Object.fromEntries(list(value).map((kv) => [String(kv.key), anyValue(record(kv.value))]));
}

function kind(value: unknown): CollectedSpanKind {
  if (typeof value === 'number') return KINDS[value] ?? 'unspecified';
  if (typeof value === 'string') return KIND_NAMES[value] ?? 'unspecified';
  return 'unspecified';
}

function optionalString(value: unknown): string | undefined {
  return typeof value === 'string' && value !== '' ? value : undefined;
}

/** Flattens an ExportTraceServiceRequest (camelCase, from JSON or protobuf) into spans. */
export function normaliseTraceRequest(request: unknown, transport: OtlpTransport): CollectedSpan[] {
  const spans: CollectedSpan[] = [];
  for (const resourceSpans of list(record(request).resourceSpans)) {
    const resource = attributes(record(resourceSpans.resource).attributes);
    for (const scopeSpans of list(resourceSpans.scopeSpans)) {
      const scope = record(scopeSpans.scope);
      for (const span of list(scopeSpans.spans)) {
        const status = record(span.status);
        // Enums are numbers in OTLP/JSON, but some senders write their names.
        const code = typeof status.code === 'number' ? status.code : (STATUS_NAMES[String(status.code)] ?? 0);
        spans.push({
          traceId: hexId(span.traceId) ?? '',
          spanId: hexId(span.spanId) ?? '',
          parentSpanId: hexId(span.parentSpanId),
          name: String(span.name ?? ''),
          kind: kind(span.kind),
          traceState: optionalString(span.traceState),
          startTimeUnixNano: bigInteger(span.startTimeUnixNano),
          endTimeUnixNano: bigInteger(span.endTimeUnixNano),
          attributes: attributes(span.attributes),
          events: list(span.events).map((event) => ({
            name: String(event.name ?? ''),
            timeUnixNano: bigInteger(event.timeUnixNano),
            attributes: attributes(event.attributes),
          })),
          links: list(span.links).map((link) => ({
            traceId: hexId(link.traceId) ?? '',
            spanId: hexId(link.spanId) ?? '',
            attributes: attributes(link.attributes),
          })),
          status: { code: STATUS_CODES[code] ?? 'unset', message: optionalString(status.message) },
          resource,
          scope: { name: String(scope.name ?? ''), version: optionalString(scope.version) },
          transport,
        });
      }
    }
  }
  return spans;
}
