import type { ParsedEnvironment } from './environment.js';

/**
 * A numeric setting of the OpenTelemetry SDK as read from its variable: the value, or what the
 * variable held when it could not be used. The spec has SDKs warn of such a value and apply the
 * default rather than fail, so a fleet-wide typo never stops an app from starting.
 */
export type SdkNumberSetting = { readonly value: number } | { readonly ignored: string };

/** The largest delay Node's timers take (a larger one fires at once). */
export const maxTimerMs = 2_147_483_647;

/** What a numeric SDK variable accepts, as the docs and the start-up warning say it. */
export function sdkIntegerAccepted(min: number, unit = ''): string {
  return `an integer${unit === '' ? '' : ` of ${unit}`} from ${min} to ${maxTimerMs} (another value: a warning, and the default)`;
}

/** An integer in `[min, maxTimerMs]` in decimal digits; anything else is kept as ignored. Never throws. */
export function parseSdkInteger(raw: string, min: number): SdkNumberSetting {
  const n = /^\s*\d{1,10}\s*$/.test(raw) ? Number(raw) : Number.NaN;
  return n >= min && n <= maxTimerMs ? { value: n } : { ignored: raw.trim().slice(0, 40) };
}

/** The batch span processor's settings, as both SDK lines' `BatchSpanProcessor` take them. */
export interface BatchSettings {
  /** `OTEL_BSP_SCHEDULE_DELAY`: how long spans wait before an export. @default 5000 */
  readonly scheduledDelayMillis: number;
  /** `OTEL_BSP_EXPORT_TIMEOUT`: how long the processor waits for one export. @default 30000 */
  readonly exportTimeoutMillis: number;
  /** `OTEL_BSP_MAX_QUEUE_SIZE`: spans held for export; more are dropped. @default 2048 */
  readonly maxQueueSize: number;
  /** `OTEL_BSP_MAX_EXPORT_BATCH_SIZE`: spans per export, at most `maxQueueSize`. @default 512 */
  readonly maxExportBatchSize: number;
}

/** The span limits, as both SDK lines' tracer providers take them (`spanLimits`). */
export interface SpanLimitSettings {
  /**
   * `OTEL_SPAN_ATTRIBUTE_VALUE_LENGTH_LIMIT`, else `OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT`: the longest
   * string attribute value; longer ones are cut. @default Infinity (no limit)
   */
  readonly attributeValueLengthLimit: number;
  /** `OTEL_SPAN_ATTRIBUTE_COUNT_LIMIT`, else `OTEL_ATTRIBUTE_COUNT_LIMIT`: attributes per span. @default 128 */
  readonly attributeCountLimit: number;
  /** `OTEL_SPAN_LINK_COUNT_LIMIT`: links per span. @default 128 */
  readonly linkCountLimit: number;
  /** `OTEL_SPAN_EVENT_COUNT_LIMIT`: events per span. @default 128 */
  readonly eventCountLimit: number;
  /** `OTEL_SPAN_ATTRIBUTE_PER_EVENT_COUNT_LIMIT`: attributes per event. @default 128 */
  readonly attributePerEventCountLimit: number;
  /** `OTEL_SPAN_ATTRIBUTE_PER_LINK_COUNT_LIMIT`: attributes per link. @default 128 */
  readonly attributePerLinkCountLimit: number;
}

/** A variable whose value was not used, warned about when the OpenTelemetry backend starts. */
export interface IgnoredSdkSetting {
  /** The variable, such as `OTEL_BSP_MAX_QUEUE_SIZE`. */
  readonly name: string;
  /** What it held (trimmed, at most 40 characters). */
  readonly value: string;
  /** What was used instead. */
  readonly used: number;
}

/**
 * The SDK settings the kit reads itself (the 3.x SDK reads no variable) and passes to either line:
 * `config.tracing.sdk`.
 *
 * @example
 * ```ts
 * // OTEL_BSP_MAX_QUEUE_SIZE=100 OTEL_BSP_EXPORT_TIMEOUT=0
 * config.tracing.sdk.batch.maxQueueSize; // 100
 * config.tracing.sdk.ignored; // [{ name: 'OTEL_BSP_EXPORT_TIMEOUT', value: '0', used: 30000 }]
 * ```
 */
export interface OtelSdkSettings {
  /** The batch span processor's settings. */
  readonly batch: BatchSettings;
  /** The tracer provider's span limits. */
  readonly spanLimits: SpanLimitSettings;
  /** The variables whose values could not be used, each warned about as tracing starts. */
  readonly ignored: readonly IgnoredSdkSetting[];
}

/** The variables {@link otelSdkSettings} reads. */
export const otelSdkVariables = [
  'OTEL_BSP_SCHEDULE_DELAY',
  'OTEL_BSP_EXPORT_TIMEOUT',
  'OTEL_BSP_MAX_QUEUE_SIZE',
  'OTEL_BSP_MAX_EXPORT_BATCH_SIZE',
  'OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT',
  'OTEL_ATTRIBUTE_COUNT_LIMIT',
  'OTEL_SPAN_ATTRIBUTE_VALUE_LENGTH_LIMIT',
  'OTEL_SPAN_ATTRIBUTE_COUNT_LIMIT',
  'OTEL_SPAN_EVENT_COUNT_LIMIT',
  'OTEL_SPAN_LINK_COUNT_LIMIT',
  'OTEL_SPAN_ATTRIBUTE_PER_EVENT_COUNT_LIMIT',
  'OTEL_SPAN_ATTRIBUTE_PER_LINK_COUNT_LIMIT',
] as const;

type SdkVariable = (typeof otelSdkVariables)[number];

/**
 * The batch processor's settings and the span limits from the environment, with the spec's defaults
 * and the fallbacks `@opentelemetry/sdk-trace-base` 2.x applies (a span limit, then the general
 * `OTEL_ATTRIBUTE_*` one); passed explicitly, so both SDK lines behave alike and neither reads
 * `process.env` behind the kit's `env` option.
 */
export function otelSdkSettings(env: Pick<ParsedEnvironment, SdkVariable>): OtelSdkSettings {
  const ignored: IgnoredSdkSetting[] = [];
  // The first usable variable of `names` (a span limit, then its general one), else the default;
  // at most `max`, and a value asked for past it is warned about too.
  const read = (names: readonly SdkVariable[], fallback: number, max = Number.POSITIVE_INFINITY): number => {
    let value: { name: SdkVariable; value: number } | undefined;
    const unusable: { name: string; value: string }[] = [];
    for (const name of names) {
      const setting = env[name];
      if (setting === undefined) continue;
      if ('value' in setting) value ??= { name, value: setting.value };
      else unusable.push({ name, value: setting.ignored });
    }
    const used = Math.min(value?.value ?? fallback, max);
    if (value !== undefined && value.value > max)
      unusable.push({ name: value.name, value: String(value.value) });
    for (const entry of unusable) ignored.push({ ...entry, used });
    return used;
  };
  const maxQueueSize = read(['OTEL_BSP_MAX_QUEUE_SIZE'], 2048);
  // Batches are cut to the queue, as the SDK does.
  const maxExportBatchSize = read(['OTEL_BSP_MAX_EXPORT_BATCH_SIZE'], 512, maxQueueSize);
  const batch: BatchSettings = {
    scheduledDelayMillis: read(['OTEL_BSP_SCHEDULE_DELAY'], 5000),
    exportTimeoutMillis: read(['OTEL_BSP_EXPORT_TIMEOUT'], 30_000),
    maxQueueSize,
    maxExportBatchSize,
  };
  const spanLimits: SpanLimitSettings = {
    attributeValueLengthLimit: read(
      ['OTEL_SPAN_ATTRIBUTE_VALUE_LENGTH_LIMIT', 'OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT'],
      Number.POSITIVE_INFINITY,
    ),
    attributeCountLimit: read(['OTEL_SPAN_ATTRIBUTE_COUNT_LIMIT', 'OTEL_ATTRIBUTE_COUNT_LIMIT'], 128),
    linkCountLimit: read(['OTEL_SPAN_LINK_COUNT_LIMIT'], 128),
    eventCountLimit: read(['OTEL_SPAN_EVENT_COUNT_LIMIT'], 128),
    attributePerEventCountLimit: read(['OTEL_SPAN_ATTRIBUTE_PER_EVENT_COUNT_LIMIT'], 128),
    attributePerLinkCountLimit: read(['OTEL_SPAN_ATTRIBUTE_PER_LINK_COUNT_LIMIT'], 128),
  };
  return { batch, spanLimits, ignored };
}
