import type { ParsedEnvironment } from './environment.js';

/**
 * An AWS platform as `cloud.platform` names it: one of the values OpenTelemetry's semantic
 * conventions give AWS's compute platforms, or another `aws_` value (a later release may add one).
 */
export type CloudPlatform =
  | 'aws_app_runner'
  | 'aws_ec2'
  | 'aws_ecs'
  | 'aws_eks'
  | 'aws_elastic_beanstalk'
  | 'aws_lambda'
  | 'aws_openshift'
  | `aws_${string}`;

/** The platform the kit assumes, and what told it. */
export interface PlatformRecognition {
  /** The AWS platform, when one is named or recognised. */
  readonly platform: CloudPlatform | undefined;
  /**
   * What named or suggested it, as the start-up line says it (`OTEL_RESOURCE_ATTRIBUTES`,
   * `ECS_CONTAINER_METADATA_URI_V4`, `KUBERNETES_SERVICE_HOST and AWS_REGION`…);
   * `KUBERNETES_SERVICE_HOST` alone, with no platform, for a cluster with nothing of AWS beside it.
   */
  readonly platformFrom: string | undefined;
  /**
   * `OTEL_RESOURCE_ATTRIBUTES` names a `cloud.platform` or `cloud.provider` other than AWS's: the
   * kit adds no `cloud.*` attribute of its own.
   */
  readonly otherCloud: boolean;
}

/**
 * Variables that tell a Kubernetes pod runs on AWS: a region, or the credentials EKS gives a pod
 * (`AWS_ROLE_ARN`: IAM roles for service accounts; `AWS_CONTAINER_CREDENTIALS_FULL_URI`: EKS Pod
 * Identity). Kubernetes alone (`KUBERNETES_SERVICE_HOST`) is any cluster: GKE, AKS, kind, on-premises.
 */
const awsEvidence = [
  'AWS_REGION',
  'AWS_DEFAULT_REGION',
  'AWS_ROLE_ARN',
  'AWS_CONTAINER_CREDENTIALS_FULL_URI',
] as const;

type PlatformVariables =
  | 'ECS_CONTAINER_METADATA_URI_V4'
  | 'KUBERNETES_SERVICE_HOST'
  | (typeof awsEvidence)[number];

/**
 * The platform the kit assumes for tracing (the default sampler, the `cloud.*` resource attributes,
 * the X-Ray origin, the resource detector): a `cloud.platform` in `OTEL_RESOURCE_ATTRIBUTES` wins
 * (a value that is not AWS's, or a `cloud.provider` other than `aws`, means no AWS platform); else
 * ECS from its task metadata variable; else EKS from Kubernetes's variable with some AWS evidence
 * beside it. App Runner sets no variable that tells it apart: it is only ever named.
 *
 * @example
 * ```ts
 * recognisePlatform({ KUBERNETES_SERVICE_HOST: '10.100.0.1', AWS_REGION: 'eu-west-1' }, {});
 * // { platform: 'aws_eks', platformFrom: 'KUBERNETES_SERVICE_HOST and AWS_REGION', otherCloud: false }
 * recognisePlatform({ KUBERNETES_SERVICE_HOST: '10.96.0.1' }, { 'cloud.platform': 'gcp_kubernetes_engine' });
 * // { platform: undefined, platformFrom: 'OTEL_RESOURCE_ATTRIBUTES', otherCloud: true }
 * ```
 */
export function recognisePlatform(
  env: Partial<Pick<ParsedEnvironment, PlatformVariables>>,
  resource: Readonly<Record<string, string>>,
): PlatformRecognition {
  const named = resource['cloud.platform']?.trim().toLowerCase();
  const provider = resource['cloud.provider']?.trim().toLowerCase();
  if (named !== undefined && named !== '') {
    const aws = named.startsWith('aws_') && (provider === undefined || provider === 'aws');
    return {
      platform: aws ? (named as CloudPlatform) : undefined,
      platformFrom: 'OTEL_RESOURCE_ATTRIBUTES',
      otherCloud: !aws,
    };
  }
  if (provider !== undefined && provider !== '' && provider !== 'aws')
    return { platform: undefined, platformFrom: 'OTEL_RESOURCE_ATTRIBUTES', otherCloud: true };
  if (env.ECS_CONTAINER_METADATA_URI_V4 !== undefined)
    return { platform: 'aws_ecs', platformFrom: 'ECS_CONTAINER_METADATA_URI_V4', otherCloud: false };
  const evidence = awsEvidence.find((name) => env[name] !== undefined);
  if (env.KUBERNETES_SERVICE_HOST !== undefined && evidence !== undefined) {
    return {
      platform: 'aws_eks',
      platformFrom: `KUBERNETES_SERVICE_HOST and ${evidence}`,
      otherCloud: false,
    };
  }
  // Kubernetes alone: no platform, but what the start-up line says of the sampler names it.
  if (env.KUBERNETES_SERVICE_HOST !== undefined)
    return { platform: undefined, platformFrom: 'KUBERNETES_SERVICE_HOST', otherCloud: false };
  return { platform: undefined, platformFrom: undefined, otherCloud: false };
}
