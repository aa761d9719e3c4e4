import { readFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { runtimeMetricNames } from '../../../src/index.js';
import { captureEmf } from '../../support/emf.js';
import { baseUrl, get } from '../../support/http.js';
import { startRuntime, stopRuntimes } from '../../support/runtime.js';

afterEach(stopRuntimes);

interface Template {
  Parameters: Record<string, { Default?: unknown }>;
  Resources: Record<string, { Type: string; Properties: Record<string, unknown> }>;
}

const template = JSON.parse(
  readFileSync(new URL('../../../examples/cloudwatch/dashboard.json', import.meta.url), 'utf8'),
) as Template;

const parameters = {
  Namespace: 'AppRunnerKit',
  ServiceName: 'notes-api',
  Environment: 'prod',
  HealthCheckName: 'postgres',
};

/** `Fn::Sub` as CloudFormation does it, for the parameters above and the region. */
function substitute(text: string): string {
  return text.replace(/\$\{([\w:]+)\}/g, (_, name: string) => {
    if (name === 'AWS::Region') return 'us-east-1';
    const value =
      (parameters as Record<string, string>)[name] ?? String(template.Parameters[name]?.Default ?? '');
    if (value === '') throw new Error(`Fn::Sub names an unknown parameter: ${name}`);
    return value;
  });
}

/** Every metric the dashboard and the alarms name, with the dimension names it uses. */
function namedMetrics(): { name: string; dimensions: string[]; namespace: string }[] {
  const named: { name: string; dimensions: string[]; namespace: string }[] = [];
  const dashboard = Object.values(template.Resources).find((r) => r.Type === 'AWS::CloudWatch::Dashboard')!;
  const body = JSON.parse(
    substitute((dashboard.Properties.DashboardBody as { 'Fn::Sub': string })['Fn::Sub']),
  ) as {
    widgets: { properties: { metrics: unknown[][] } }[];
  };
  for (const widget of body.widgets) {
    for (const entry of widget.properties.metrics) {
      const [first] = entry;
      if (typeof first === 'object' && first !== null) {
        const expression = (first as { expression: string }).expression;
        const schema = /\{([^}]+)\}/.exec(expression)![1]!.split(',');
        const name = /MetricName="([^"]+)"/.exec(expression)![1]!;
        named.push({ name, namespace: schema[0]!, dimensions: schema.slice(1) });
        continue;
      }
      const strings = entry.filter((part): part is string => typeof part === 'string');
      const dimensions = strings.slice(2).filter((_, i) => i % 2 === 0);
      named.push({ namespace: strings[0]!, name: strings[1]!, dimensions });
    }
  }
  for (const resource of Object.values(template.Resources)) {
    if (resource.Type !== 'AWS::CloudWatch::Alarm') continue;
    const { MetricName, Dimensions, Namespace } = resource.Properties as {
      MetricName: string;
      Dimensions: { Name: string }[];
      Namespace: { Ref: string };
    };
    named.push({
      name: MetricName,
      dimensions: Dimensions.map((d) => d.Name),
      namespace: (parameters as Record<string, string>)[Namespace.Ref]!,
    });
  }
  return named;
}

describe('the CloudWatch dashboard template', () => {
  it('names only metrics, with their dimension sets, that the kit writes; every runtime metric is on it', async () => {
    // What the kit really writes, with everything a dashboard shows happening once.
    const emf = captureEmf();
    const { runtime } = await startRuntime({
      service: 'notes-api',
      env: { DEPLOYMENT_ENVIRONMENT: 'prod' },
      app: (req, res) => {
        if (req.url === '/fail') res.statusCode = 500;
        setTimeout(() => res.end(), req.url === '/slow' ? 150 : 0);
      },
      loadShedding: { maxInFlight: 1 },
      metrics: { destination: emf },
    });
    runtime.health.register('postgres', () => {
      throw new Error('connection refused');
    });
    const url = baseUrl(runtime.server!);
    await Promise.all([get(`${url}/slow`), get(`${url}/`)]);
    await get(`${url}/fail`);
    await get(`${url}/readyz`);
    await runtime.metrics.flush();
    const written = new Map<string, string[]>();
    for (const document of emf.documents()) {
      for (const directive of document._aws.CloudWatchMetrics) {
        for (const metric of directive.Metrics) written.set(metric.Name, directive.Dimensions[0]!);
      }
    }
    // Written only when a cached secret fails to refresh: a test of its own covers it.
    written.set('SecretRefreshFailures', ['Service', 'Environment']);

    const named = namedMetrics();
    expect(named.length).toBeGreaterThan(10);
    for (const { name, dimensions, namespace } of named) {
      expect(written.has(name), `${name} is not a metric the kit writes`).toBe(true);
      expect(dimensions, name).toEqual(written.get(name));
      expect(namespace, name).toBe('AppRunnerKit');
    }
    for (const name of Object.keys(runtimeMetricNames)) {
      expect(
        named.some((n) => n.name === name),
        `${name} is missing from the dashboard`,
      ).toBe(true);
    }
  });

  it('alarms on the event-loop delay p99 and on shed requests, with thresholds as parameters', () => {
    const alarms = Object.values(template.Resources).filter((r) => r.Type === 'AWS::CloudWatch::Alarm');
    expect(alarms.map((a) => [a.Properties.MetricName, a.Properties.Statistic])).toEqual([
      ['EventLoopDelayP99', 'Maximum'],
      ['ShedRequests', 'Sum'],
    ]);
    for (const alarm of alarms) {
      const threshold = (alarm.Properties.Threshold as { Ref: string }).Ref;
      expect(template.Parameters[threshold]?.Default).toEqual(expect.any(Number));
    }
  });
});
