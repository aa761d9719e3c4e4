// The deployment templates in examples/deploy, checked against what the kit does: the health paths it
// answers, the port it reads, and stop windows longer than its shutdown.
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { loadConfig } from '../../../src/config/config.js';
import { defaults } from '../../../src/index.js';
import { startRuntime, stopRuntimes } from '../../support/runtime.js';

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

  it("App Runner: apprunner.yaml's tracing lines, uncommented, name the platform the kit cannot detect", () => {
    const text = readFileSync(new URL('../../../examples/express/apprunner.yaml', import.meta.url), 'utf8');
    const uncommented = text.replace(/^(\s*)# (- name: OTEL_| {2}value: )/gm, '$1$2');
    const [document] = parseAllDocuments(uncommented).map((d) => d.toJS() as { run: { env: [] } });
    const { tracing } = loadConfig({ env: env(document!.run.env) as Record<string, string> }).config;

    expect(tracing).toMatchObject({ platform: 'aws_app_runner', endpoint: 'http://localhost:4317' });
  });

  describe('ECS/Fargate: the container health check, run as ECS runs it (no shell, no curl in node:22-slim)', () => {
    const task = JSON.parse(read('ecs-fargate-task-definition.json')) as {
      containerDefinitions: { healthCheck: { command: string[]; timeout: number } }[];
    };
    const { command, timeout } = task.containerDefinitions[0]!.healthCheck;
    /** The exit code of the check's command with `PORT` set, within the check's timeout. */
    const check = (port: number) =>
      new Promise<number | null>((resolve, reject) => {
        expect(command.slice(0, 2)).toEqual(['CMD', 'node']);
        const child = spawn(process.execPath, command.slice(2), {
          env: { PATH: process.env.PATH, PORT: String(port) },
          stdio: 'ignore',
          timeout: timeout * 1000,
        });
        child.on('error', reject);
        child.on('exit', (code) => resolve(code));
      });

    afterEach(async () => {
      await stopRuntimes();
    });

    it('exits 0 while /healthz passes', async () => {
      const { runtime } = await startRuntime({ app: (_req, res) => res.end() });
      const { port } = runtime.server!.address() as { port: number };

      expect(await check(port)).toBe(0);
    });

    it('exits 1 when a liveness check fails (503), and when nothing listens', async () => {
      const { runtime } = await startRuntime({ app: (_req, res) => res.end() });
      runtime.health.register(
        'event-loop',
        () => {
          throw new Error('stuck');
        },
        { kind: 'liveness' },
      );
      const { port } = runtime.server!.address() as { port: number };
      const free = createServer();
      await new Promise<void>((resolve) => free.listen(0, '127.0.0.1', resolve));
      const closed = (free.address() as { port: number }).port;
      await new Promise((resolve) => free.close(resolve));

      expect(await check(port)).toBe(1);
      expect(await check(closed)).toBe(1);
    });
  });
});
