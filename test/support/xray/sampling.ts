/**
 * The daemon's sampling proxy: it forwards `POST /GetSamplingRules` and `POST /SamplingTargets`
 * to the X-Ray API, whose JSON (timestamps in epoch seconds) the SDK reads back unchanged.
 */

/** A sampling rule as the X-Ray API (and so the daemon's proxy) returns it. */
export interface SamplingRule {
  readonly RuleName: string;
  readonly Priority: number;
  readonly FixedRate: number;
  readonly ReservoirSize: number;
  readonly ServiceName?: string;
  readonly ServiceType?: string;
  readonly Host?: string;
  readonly HTTPMethod?: string;
  readonly URLPath?: string;
}

/** The rule the service answers when an account defines none. */
export const DEFAULT_SAMPLING_RULE: SamplingRule = {
  RuleName: 'Default',
  Priority: 10000,
  FixedRate: 0.05,
  ReservoirSize: 1,
};

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The GetSamplingRules answer: every rule as a version-1 record with the wildcard defaults. */
export function samplingRulesAnswer(rules: readonly SamplingRule[], modifiedAt: number): unknown {
  return {
    SamplingRuleRecords: rules.map((rule) => ({
      SamplingRule: {
        RuleARN: `arn:aws:xray:us-east-1:123456789012:sampling-rule/${rule.RuleName}`,
        ResourceARN: '*',
        ServiceName: '*',
        ServiceType: '*',
        Host: '*',
        HTTPMethod: '*',
        URLPath: '*',
        Version: 1,
        Attributes: {},
        ...rule,
      },
      CreatedAt: 0,
      ModifiedAt: modifiedAt,
    })),
  };
}

/** The SamplingTargets answer: for each reported rule, its rate and a quota of its reservoir size. */
export function samplingTargetsAnswer(
  rules: readonly SamplingRule[],
  body: unknown,
  modifiedAt: number,
): unknown {
  const documents =
    isRecord(body) && Array.isArray(body.SamplingStatisticsDocuments) ? body.SamplingStatisticsDocuments : [];
  const now = Date.now() / 1000;
  return {
    SamplingTargetDocuments: documents.filter(isRecord).map((doc) => {
      const rule = rules.find((r) => r.RuleName === doc.RuleName);
      return {
        RuleName: doc.RuleName,
        FixedRate: rule?.FixedRate ?? 0,
        ReservoirQuota: rule?.ReservoirSize ?? 0,
        ReservoirQuotaTTL: now + 10,
        Interval: 10,
      };
    }),
    LastRuleModification: modifiedAt,
    UnprocessedStatistics: [],
  };
}
