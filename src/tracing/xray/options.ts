import { invalid, parseEnum, parseSection } from '../../config/parse.js';

/** How the X-Ray SDK backend decides which new traces to record. */
const xraySamplingModes = ['centralized', 'local'] as const;

/**
 * `'centralized'`: the sampling rules of the X-Ray console, fetched through the daemon's TCP
 * endpoint (the SDK polls rules every 5 minutes and quotas every 10 seconds), the local rules
 * applying until the first answer and while the daemon does not answer. `'local'`: the local rules
 * only; the kit then sends nothing but UDP segments.
 */
export type XraySamplingMode = (typeof xraySamplingModes)[number];

/** A local sampling rule, in the X-Ray SDK's format (version 2). */
export interface XraySamplingRule {
  readonly description?: string;
  /** The `Host` header to match; `*` and `?` are wildcards. */
  readonly host: string;
  /** The method to match; `*` and `?` are wildcards. */
  readonly http_method: string;
  /** The path to match, without the query; `*` and `?` are wildcards. */
  readonly url_path: string;
  /** Requests recorded each second before `rate` applies: a non-negative integer. */
  readonly fixed_target: number;
  /** The share of the rest recorded, from 0 to 1. */
  readonly rate: number;
}

/**
 * Local sampling rules, in the X-Ray SDK's format (version 2): the first rule that matches a
 * request decides, else `default`.
 *
 * @example
 * ```ts
 * const rules: XraySamplingRules = {
 *   version: 2,
 *   default: { fixed_target: 1, rate: 0.1 },
 *   rules: [{ host: '*', http_method: 'GET', url_path: '/notes/*', fixed_target: 5, rate: 0.5 }],
 * };
 * ```
 */
export interface XraySamplingRules {
  readonly version: 2;
  readonly default: { readonly fixed_target: number; readonly rate: number };
  readonly rules?: readonly XraySamplingRule[];
}

/**
 * Options of the X-Ray SDK backend (`tracing.mode: 'xray'`, or `'auto'` with
 * `AWS_XRAY_DAEMON_ADDRESS` set).
 *
 * @example
 * ```ts
 * await bootstrapAppRunner({
 *   app,
 *   tracing: { mode: 'xray', xray: { sampling: 'local', samplingRules: { version: 2, default: { fixed_target: 1, rate: 0.1 } } } },
 * });
 * ```
 */
export interface XrayTracingOptions {
  /**
   * Where the sampling rules for new traces come from: `'centralized'` (the X-Ray console's, through
   * the daemon) or `'local'` (`samplingRules` only). A caller's `Sampled=1` or `Sampled=0` is always
   * followed.
   * @default 'centralized'
   */
  readonly sampling?: XraySamplingMode;
  /**
   * The local rules: used alone with `sampling: 'local'`, and as the fallback of centralized sampling.
   * @default the X-Ray SDK's: 1 request a second, then 5 % of the rest
   */
  readonly samplingRules?: XraySamplingRules;
}

/** The validated X-Ray options. */
export interface XrayConfig {
  readonly sampling: XraySamplingMode;
  /** `undefined`: the X-Ray SDK's default rules. */
  readonly samplingRules: XraySamplingRules | undefined;
}

const maxRules = 100;
const maxPattern = 512;

function fixedTarget(field: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0 || value > 1_000_000) {
    invalid(field, value, 'an integer from 0 to 1000000 (requests a second)');
  }
  return value;
}

function rate(field: string, value: unknown): number {
  if (typeof value !== 'number' || !(value >= 0 && value <= 1)) invalid(field, value, 'a number from 0 to 1');
  return value;
}

function pattern(field: string, value: unknown): string {
  if (typeof value !== 'string' || value === '' || value.length > maxPattern || /\p{Cc}/u.test(value)) {
    invalid(field, value, `a non-empty pattern of at most ${maxPattern} characters (* and ? are wildcards)`);
  }
  return value;
}

function parseRule(field: string, value: unknown): XraySamplingRule {
  const rule = parseSection(field, value, [
    'description',
    'host',
    'http_method',
    'url_path',
    'fixed_target',
    'rate',
  ]);
  if (rule.description !== undefined && typeof rule.description !== 'string') {
    invalid(`${field}.description`, rule.description, 'a string');
  }
  return {
    ...(rule.description === undefined ? {} : { description: rule.description as string }),
    host: pattern(`${field}.host`, rule.host),
    http_method: pattern(`${field}.http_method`, rule.http_method),
    url_path: pattern(`${field}.url_path`, rule.url_path),
    fixed_target: fixedTarget(`${field}.fixed_target`, rule.fixed_target),
    rate: rate(`${field}.rate`, rule.rate),
  };
}

/**
 * Validates local sampling rules, as {@link XraySamplingRules} describes them.
 *
 * @example
 * ```ts
 * parseSamplingRules('tracing.xray.samplingRules', { version: 2, default: { fixed_target: 1, rate: 0.05 } });
 * ```
 * @throws ConfigurationError (`ARK_CONFIG_INVALID`) naming the field that is wrong.
 */
function parseSamplingRules(field: string, value: unknown): XraySamplingRules {
  const section = parseSection(field, value, ['version', 'default', 'rules']);
  if (section.version !== 2) invalid(`${field}.version`, section.version, '2 (the host-based rule format)');
  if (section.default === undefined) invalid(`${field}.default`, undefined, '{ fixed_target, rate }');
  const fallback = parseSection(`${field}.default`, section.default, ['fixed_target', 'rate']);
  let rules: XraySamplingRule[] | undefined;
  if (section.rules !== undefined) {
    if (!Array.isArray(section.rules) || section.rules.length > maxRules) {
      invalid(`${field}.rules`, section.rules, `an array of at most ${maxRules} rules`);
    }
    rules = section.rules.map((rule: unknown, i: number) => parseRule(`${field}.rules[${i}]`, rule));
  }
  return {
    version: 2,
    default: {
      fixed_target: fixedTarget(`${field}.default.fixed_target`, fallback.fixed_target),
      rate: rate(`${field}.default.rate`, fallback.rate),
    },
    ...(rules === undefined ? {} : { rules }),
  };
}

/**
 * Validates the `tracing.xray` option section.
 *
 * @example
 * ```ts
 * parseXrayOptions({ sampling: 'local' }); // { sampling: 'local', samplingRules: undefined }
 * ```
 * @throws ConfigurationError (`ARK_CONFIG_INVALID`) naming the field that is wrong.
 */
export function parseXrayOptions(value: unknown): XrayConfig {
  const section = parseSection('tracing.xray', value, ['sampling', 'samplingRules']);
  return {
    sampling:
      section.sampling === undefined
        ? 'centralized'
        : parseEnum('tracing.xray.sampling', section.sampling, xraySamplingModes),
    samplingRules:
      section.samplingRules === undefined
        ? undefined
        : parseSamplingRules('tracing.xray.samplingRules', section.samplingRules),
  };
}
