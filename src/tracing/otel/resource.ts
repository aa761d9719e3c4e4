import type { AttributeValue } from '@opentelemetry/api';
import type { TracingConfig } from '../../config/tracing.js';

/** What the resource is built from. */
export interface ResourceSettings {
  readonly service: string;
  readonly version: string | undefined;
  readonly region: string | undefined;
  readonly tracing: Pick<TracingConfig, 'platform' | 'otherCloud' | 'resourceAttributes'>;
  /** What the ECS or EKS resource detector found (see platform-resource.ts). */
  readonly platformAttributes?: Readonly<Record<string, AttributeValue>> | undefined;
}

/**
 * The resource attributes of every span: `service.name` and `service.version`, the kit's service
 * identity (which takes them from `OTEL_RESOURCE_ATTRIBUTES` when no option or variable above it
 * names them: see serviceIdentity), then `cloud.provider` and `cloud.region` when a region is set,
 * `cloud.platform` when an AWS platform is named or recognised (see recognisePlatform), the ECS
 * task's or EKS cluster's attributes when `@opentelemetry/resource-detector-aws` found them, then
 * `OTEL_RESOURCE_ATTRIBUTES` over the detected ones. Where `OTEL_RESOURCE_ATTRIBUTES` names another
 * cloud, no `cloud.*` attribute is added: the region of the AWS SDK is not where the app runs.
 */
export function resourceAttributes(settings: ResourceSettings): Record<string, AttributeValue> {
  const detected: Record<string, AttributeValue> = { 'telemetry.distro.name': 'apprunner-kit' };
  const { platform, otherCloud } = settings.tracing;
  const region = otherCloud ? undefined : settings.region;
  if (region !== undefined || platform !== undefined) detected['cloud.provider'] = 'aws';
  if (region !== undefined) detected['cloud.region'] = region;
  if (platform !== undefined) detected['cloud.platform'] = platform;
  Object.assign(detected, settings.platformAttributes);
  const attributes: Record<string, AttributeValue> = { ...detected, ...settings.tracing.resourceAttributes };
  attributes['service.name'] = settings.service;
  if (settings.version !== undefined) attributes['service.version'] = settings.version;
  return attributes;
}
