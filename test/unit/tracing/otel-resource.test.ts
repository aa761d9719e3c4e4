import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../../src/config/config.js';
import { resourceAttributes } from '../../../src/tracing/otel/resource.js';

/** The resource attributes of every span, from the settings `loadConfig` reads in `env`. */
function resourceIn(env: Record<string, string>) {
  const { config } = loadConfig({ env, service: 'notes-api' });
  return resourceAttributes({
    service: 'notes-api',
    version: '1.0.0',
    region: config.region,
    tracing: config.tracing,
  });
}

describe('the cloud attributes the kit adds to the resource', () => {
  it('name AWS, the region and the EKS platform on a Kubernetes cluster with AWS beside it', () => {
    expect(resourceIn({ KUBERNETES_SERVICE_HOST: '10.100.0.1', AWS_REGION: 'eu-west-1' })).toMatchObject({
      'cloud.provider': 'aws',
      'cloud.region': 'eu-west-1',
      'cloud.platform': 'aws_eks',
    });
  });

  it('name no platform on a Kubernetes cluster with nothing of AWS', () => {
    const attributes = resourceIn({ KUBERNETES_SERVICE_HOST: '10.96.0.1' });
    expect(attributes['cloud.provider']).toBeUndefined();
    expect(attributes['cloud.platform']).toBeUndefined();
  });

  it('stay out where OTEL_RESOURCE_ATTRIBUTES names another cloud, the AWS SDK region too', () => {
    const attributes = resourceIn({
      KUBERNETES_SERVICE_HOST: '10.96.0.1',
      AWS_REGION: 'eu-west-1',
      OTEL_RESOURCE_ATTRIBUTES: 'cloud.platform=gcp_kubernetes_engine',
    });
    expect(attributes['cloud.platform']).toBe('gcp_kubernetes_engine');
    expect(attributes['cloud.provider']).toBeUndefined();
    expect(attributes['cloud.region']).toBeUndefined();
  });

  it('take the platform OTEL_RESOURCE_ATTRIBUTES names on AWS, with the provider and region', () => {
    expect(
      resourceIn({ AWS_REGION: 'eu-west-1', OTEL_RESOURCE_ATTRIBUTES: 'cloud.platform=aws_app_runner' }),
    ).toMatchObject({
      'cloud.provider': 'aws',
      'cloud.region': 'eu-west-1',
      'cloud.platform': 'aws_app_runner',
    });
  });
});
