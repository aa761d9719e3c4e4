import { createServer, type Server } from 'node:http';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { applyEnv } from '../../support/aws-endpoint.js';
import { baseUrl, get } from '../../support/http.js';
import { type OtlpCollector, startOtlpCollector } from '../../support/otlp-collector.js';
import { startRuntime, stopRuntimes } from '../../support/runtime.js';
import { otlpEnv, startTraced } from './support.js';

const taskArn = 'arn:aws:ecs:eu-west-1:123456789012:task/notes-cluster/0e2ae6c7b0b44e1f8a5c3b9f3c4a1d22';
const containerArn =
  'arn:aws:ecs:eu-west-1:123456789012:container/notes-cluster/0e2ae6c7b0b44e1f8a5c3b9f3c4a1d22/5c9f';

/** The ECS task metadata endpoint v4, as Fargate serves it (`/` the container, `/task` the task); `hang` never answers. */
function metadataServer(hang: boolean): Server {
  return createServer((req, res) => {
    if (hang) return;
    res.setHeader('content-type', 'application/json');
    if (req.url?.endsWith('/task')) {
      res.end(
        JSON.stringify({
          Cluster: 'arn:aws:ecs:eu-west-1:123456789012:cluster/notes-cluster',
          TaskARN: taskArn,
          Family: 'notes-api',
          Revision: '42',
          LaunchType: 'FARGATE',
          AvailabilityZone: 'eu-west-1b',
        }),
      );
      return;
    }
    res.end(
      JSON.stringify({
        DockerId: '0e2ae6c7b0b44e1f8a5c3b9f3c4a1d22-5c9f',
        Name: 'app',
        ContainerARN: containerArn,
        LaunchType: 'FARGATE',
        LogDriver: 'awslogs',
        LogOptions: {
          'awslogs-group': '/ecs/notes-api',
          'awslogs-region': 'eu-west-1',
          'awslogs-stream': 'ecs/app/0e2a',
        },
      }),
    );
  });
}

let collector: OtlpCollector;
const servers: Server[] = [];
let restore: (() => void) | undefined;

beforeAll(async () => {
  collector = await startOtlpCollector();
});

afterEach(async () => {
  await stopRuntimes();
  collector.clear();
  restore?.();
  restore = undefined;
  for (const server of servers.splice(0)) {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }
});

afterAll(async () => {
  await collector.close();
});

/** A stand-in metadata endpoint, and the variable ECS sets to find it (in the process: the detector reads it there). */
async function onEcs(hang: boolean): Promise<Record<string, string>> {
  const server = metadataServer(hang);
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const env = { ECS_CONTAINER_METADATA_URI_V4: `${baseUrl(server)}/v4/0e2ae6c7` };
  restore = applyEnv(env);
  return env;
}

describe('the service of spans and log lines', () => {
  it('is service.name (and service.version) of OTEL_RESOURCE_ATTRIBUTES when nothing above names it', async () => {
    // No service option: the working directory's package.json would name it otherwise.
    const { runtime, logs } = await startRuntime({
      app: (_req, res) => res.end(),
      env: {
        ...otlpEnv(collector, 'http/json'),
        OTEL_RESOURCE_ATTRIBUTES: 'service.name=billing,service.version=2.0.0,team=notes',
      },
    });
    await get(`${baseUrl(runtime.server!)}/`);
    await runtime.tracer.flush();
    const [span] = await collector.waitForSpans(1);

    expect(span!.resource).toMatchObject({
      'service.name': 'billing',
      'service.version': '2.0.0',
      team: 'notes',
    });
    expect(logs.find('request completed')[0]).toMatchObject({ service: 'billing', version: '2.0.0' });
  });
});

describe('the resource of spans on ECS', () => {
  it('carries the task, cluster, launch type, zone and log group from the task metadata endpoint v4', async () => {
    const env = await onEcs(false);
    const { runtime, logs } = await startTraced(collector, 'http/json', () => (_req, res) => res.end(), {
      env,
    });
    await get(`${baseUrl(runtime.server!)}/`);
    await runtime.tracer.flush();
    const [span] = await collector.waitForSpans(1);

    expect(span!.resource).toMatchObject({
      'cloud.provider': 'aws',
      'cloud.platform': 'aws_ecs',
      'aws.ecs.task.arn': taskArn,
      'aws.ecs.cluster.arn': 'arn:aws:ecs:eu-west-1:123456789012:cluster/notes-cluster',
      'aws.ecs.launchtype': 'fargate',
      'aws.ecs.task.family': 'notes-api',
      'aws.ecs.task.revision': '42',
      'aws.ecs.container.arn': containerArn,
      'cloud.account.id': '123456789012',
      'cloud.availability_zone': 'eu-west-1b',
      'aws.log.group.names': ['/ecs/notes-api'],
      'service.name': 'notes-api',
    });
    const line = logs.lines.find((l) => String(l.msg).startsWith('tracing through OpenTelemetry'));
    expect((line!.tracing as { resource: string }).resource).toMatch(/^detected \(\d+ attributes\)$/);
  });

  it('never holds the start longer than the bound when the metadata endpoint hangs', async () => {
    const env = await onEcs(true);
    const started = performance.now();
    const { runtime, logs } = await startTraced(collector, 'http/json', () => (_req, res) => res.end(), {
      env,
    });
    const tookMs = performance.now() - started;

    expect(tookMs).toBeLessThan(2_500);
    await get(`${baseUrl(runtime.server!)}/`);
    await runtime.tracer.flush();
    const [span] = await collector.waitForSpans(1);
    expect(span!.resource).toMatchObject({ 'cloud.platform': 'aws_ecs', 'service.name': 'notes-api' });
    expect(span!.resource['aws.ecs.task.arn']).toBeUndefined();
    const line = logs.lines.find((l) => String(l.msg).startsWith('tracing through OpenTelemetry'));
    expect((line!.tracing as { resource: string }).resource).toMatch(
      // The detector gives up on the endpoint after 1 s, before the kit's bound.
      /^(timed out after 1500 ms|none detected \(the task metadata endpoint could not be read\))/,
    );
  });
});

/** The tracing start-up line's fields. */
function tracingLine(logs: { lines: Record<string, unknown>[] }): Record<string, string> {
  const line = logs.lines.find((l) => String(l.msg).startsWith('tracing through OpenTelemetry'));
  return line!.tracing as Record<string, string>;
}

describe('the platform tracing assumes', () => {
  const started = (env: Record<string, string>) =>
    startTraced(collector, 'http/json', () => (_req, res) => res.end(), { env });

  it('is none on a Kubernetes cluster that names another cloud: OpenTelemetry sampling, no aws attributes', async () => {
    const { runtime, logs } = await started({
      KUBERNETES_SERVICE_HOST: '10.96.0.1',
      AWS_REGION: 'eu-west-1',
      OTEL_RESOURCE_ATTRIBUTES: 'cloud.provider=gcp,cloud.platform=gcp_kubernetes_engine',
    });
    await get(`${baseUrl(runtime.server!)}/`);
    await runtime.tracer.flush();
    const [span] = await collector.waitForSpans(1);

    expect(tracingLine(logs)).toMatchObject({ sampler: 'parentbased_always_on' });
    expect(tracingLine(logs).resource).toBeUndefined();
    expect(span!.resource).toMatchObject({
      'cloud.provider': 'gcp',
      'cloud.platform': 'gcp_kubernetes_engine',
    });
    expect(span!.resource['cloud.region']).toBeUndefined();
  });

  it('is none on a Kubernetes cluster with nothing of AWS beside it', async () => {
    const { runtime, logs } = await started({ KUBERNETES_SERVICE_HOST: '10.96.0.1' });
    await get(`${baseUrl(runtime.server!)}/`);
    await runtime.tracer.flush();
    const [span] = await collector.waitForSpans(1);

    expect(tracingLine(logs)).toMatchObject({ sampler: 'parentbased_always_on' });
    expect(tracingLine(logs).sampling).toContain('set OTEL_RESOURCE_ATTRIBUTES=cloud.platform=aws_eks');
    expect(span!.resource['cloud.platform']).toBeUndefined();
    expect(span!.resource['cloud.provider']).toBeUndefined();
  });

  it("is App Runner where OTEL_RESOURCE_ATTRIBUTES names it: X-Ray's default rule, and the line says why", async () => {
    const { runtime, logs } = await started({ OTEL_RESOURCE_ATTRIBUTES: 'cloud.platform=aws_app_runner' });
    await get(`${baseUrl(runtime.server!)}/`);
    await runtime.tracer.flush();

    expect(tracingLine(logs)).toMatchObject({ sampler: 'parentbased_xray_default_rule' });
    expect(tracingLine(logs).sampling).toContain('on aws_app_runner (from OTEL_RESOURCE_ATTRIBUTES)');
    expect(tracingLine(logs).resource).toBeUndefined();
  });
});

describe('the start-up line on ECS', () => {
  it('says no attribute was detected, and why, when the task metadata endpoint refuses', async () => {
    // A port that was just listened on and closed: the connection is refused.
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const url = `${baseUrl(closed)}/v4/0e2ae6c7`;
    await new Promise((resolve) => closed.close(resolve));
    const env = { ECS_CONTAINER_METADATA_URI_V4: url };
    restore = applyEnv(env);
    const { logs } = await startTraced(collector, 'http/json', () => (_req, res) => res.end(), { env });

    expect(tracingLine(logs).resource).toBe('none detected (the task metadata endpoint could not be read)');
  });

  it('says the detector found no variable when ECS_CONTAINER_METADATA_URI_V4 is only in options.env', async () => {
    const { logs } = await startTraced(collector, 'http/json', () => (_req, res) => res.end(), {
      env: { ECS_CONTAINER_METADATA_URI_V4: 'http://127.0.0.1:9/v4/0e2ae6c7' },
    });

    expect(tracingLine(logs).resource).toMatch(
      /^none detected \(the ECS detector reads ECS_CONTAINER_METADATA_URI_V4 from process\.env/,
    );
  });
});

describe('the start-up line on EKS', () => {
  it('says no attribute was detected, and where to read why, when the pod cannot reach the ConfigMaps', async () => {
    // No service-account token here: the detector gives up before asking the Kubernetes API.
    const { logs } = await startTraced(collector, 'http/json', () => (_req, res) => res.end(), {
      env: { KUBERNETES_SERVICE_HOST: '10.100.0.1', AWS_REGION: 'eu-west-1' },
    });

    expect(tracingLine(logs).resource).toBe(
      'none detected (the EKS detector read no cluster name or container id: see "Resource attributes" in docs/deploy/eks.md)',
    );
  });
});
