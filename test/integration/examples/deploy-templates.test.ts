// The deployment templates in examples/deploy, checked against what the kit does: the health paths it
// answers, the port it reads, and stop windows longer than its shutdown.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { loadConfig } from '../../../src/config/config.js';
import { defaults } from '../../../src/index.js';

const read = (name: string) =>
  readFileSync(new URL(`../../../examples/deploy/${name}`, import.meta.url), 'utf8');
const shutdownS = defaults.shutdown.timeoutMs / 1000;
const paths = [defaults.health.livenessPath, defaults.health.readinessPath, defaults.health.startupPath];

function env(
  list: readonly { name?: string; Name?: string; value?: unknown; Value?: unknown }[],
): Record<string, unknown> {
  return Object.fromEntries(list.map((e) => [e.name ?? e.Name, e.value ?? e.Value]));
}

describe('examples/deploy', () => {
  it('ECS Express Mode: the liveness path as the ALB check, PORT the container port, the default stop window', () => {
    const template = JSON.parse(read('ecs-express-mode.json')) as {
      Resources: Record<string, { Type: string; Properties: Record<string, unknown> }>;
    };
    const service = Object.values(template.Resources).find(
      (r) => r.Type === 'AWS::ECS::ExpressGatewayService',
    )!;
    const container = service.Properties.PrimaryContainer as { ContainerPort: number; Environment: [] };
    expect(service.Properties.HealthCheckPath).toBe(defaults.health.livenessPath);
    expect(env(container.Environment).PORT).toBe(String(container.ContainerPort));
    // Express Mode keeps ECS's default stop timeout of 30 s.
    expect(30).toBeGreaterThan(shutdownS);
  });

  it('ECS/Fargate: a stop timeout above the shutdown, awslogs without blocking, PORT the mapped port', () => {
    const task = JSON.parse(read('ecs-fargate-task-definition.json')) as {
      containerDefinitions: {
        stopTimeout: number;
        portMappings: { containerPort: number }[];
        environment: [];
        logConfiguration: { logDriver: string; options: Record<string, string> };
      }[];
    };
    const [app] = task.containerDefinitions;
    expect(app!.stopTimeout).toBeGreaterThan(shutdownS);
    expect(env(app!.environment).PORT).toBe(String(app!.portMappings[0]!.containerPort));
    expect(app!.logConfiguration).toMatchObject({ logDriver: 'awslogs', options: { mode: 'non-blocking' } });
  });

  it("EKS: the three probes on the kit's paths, and a grace period covering preStop and the shutdown", () => {
    const [deployment] = parseAllDocuments(read('eks-deployment.yaml')).map((d) => d.toJS() as unknown);
    const pod = (deployment as { spec: { template: { spec: unknown } } }).spec.template.spec as {
      terminationGracePeriodSeconds: number;
      containers: {
        ports: { name: string; containerPort: number }[];
        env: [];
        lifecycle: { preStop: { sleep: { seconds: number } } };
        startupProbe: { httpGet: { path: string } };
        livenessProbe: { httpGet: { path: string } };
        readinessProbe: { httpGet: { path: string } };
      }[];
    };
    const [app] = pod.containers;
    expect([
      app!.livenessProbe.httpGet.path,
      app!.readinessProbe.httpGet.path,
      app!.startupProbe.httpGet.path,
    ]).toEqual(paths);
    expect(env(app!.env).PORT).toBe(String(app!.ports[0]!.containerPort));
    expect(pod.terminationGracePeriodSeconds).toBeGreaterThan(
      app!.lifecycle.preStop.sleep.seconds + shutdownS,
    );
  });

  it('EKS: names the platform and the pod in OTEL_RESOURCE_ATTRIBUTES, from variables defined above it', () => {
    const [deployment] = parseAllDocuments(read('eks-deployment.yaml')).map((d) => d.toJS() as unknown);
    const pod = (deployment as { spec: { template: { spec: unknown } } }).spec.template.spec as {
      containers: { env: { name: string; value?: string; valueFrom?: unknown }[] }[];
    };
    // As the kubelet builds the environment: $(NAME) expands to a variable defined earlier in the list.
    const built: Record<string, string> = {};
    for (const entry of pod.containers[0]!.env) {
      built[entry.name] =
        entry.valueFrom !== undefined
          ? `<${entry.name}>`
          : String(entry.value).replace(/\$\(([A-Z_]+)\)/g, (whole, name: string) => built[name] ?? whole);
    }
    const { tracing } = loadConfig({ env: { ...built, KUBERNETES_SERVICE_HOST: '10.100.0.1' } }).config;

    expect(tracing.platform).toBe('aws_eks');
    expect(tracing.resourceAttributes).toMatchObject({
      'k8s.pod.name': '<POD_NAME>',
      'k8s.namespace.name': '<POD_NAMESPACE>',
    });
  });
});
