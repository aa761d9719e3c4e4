import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../../src/config/config.js';
import { ConfigurationError } from '../../../src/errors.js';

function tracing(options: Record<string, unknown> | undefined, env: Record<string, string> = {}) {
  return loadConfig({ env, ...(options === undefined ? {} : { tracing: options as never }) }).config.tracing;
}

function failure(run: () => unknown): ConfigurationError {
  try {
    run();
  } catch (error) {
    if (error instanceof ConfigurationError) return error;
    throw error;
  }
  throw new Error('expected a ConfigurationError');
}

describe('tracing options', () => {
  it('default to auto, with fetch and node:http client spans, nothing read from the environment', () => {
    expect(tracing(undefined)).toEqual({
      mode: 'auto',
      modeSource: 'default',
      fetch: true,
      httpClient: true,
      requestFields: false,
      propagators: ['xray', 'tracecontext', 'baggage'],
      propagatorsIgnored: [],
      propagatorsSource: 'default',
      endpoint: undefined,
      tracesEndpoint: undefined,
      protocol: undefined,
      tracesProtocol: undefined,
      exportTimeoutMs: undefined,
      exporter: undefined,
      sampler: undefined,
      samplerArg: undefined,
      xrayRules: { endpoint: 'http://localhost:2000', pollingIntervalSeconds: 300 },
      resourceAttributes: {},
      sdkDisabled: false,
      sdk: {
        batch: {
          scheduledDelayMillis: 5000,
          exportTimeoutMillis: 30_000,
          maxQueueSize: 2048,
          maxExportBatchSize: 512,
        },
        spanLimits: {
          attributeValueLengthLimit: Number.POSITIVE_INFINITY,
          attributeCountLimit: 128,
          linkCountLimit: 128,
          eventCountLimit: 128,
          attributePerEventCountLimit: 128,
          attributePerLinkCountLimit: 128,
        },
        ignored: [],
      },
      xrayDaemonAddress: undefined,
      xrayDaemonAddressIgnored: undefined,
      resourceAttributesIgnored: [],
      xray: { sampling: 'centralized', samplingRules: undefined },
      platform: undefined,
      platformFrom: undefined,
      otherCloud: false,
    });
  });

  it('read OTEL_BSP_* and the span limits, a span limit over the general one', () => {
    const { sdk } = tracing(undefined, {
      OTEL_BSP_SCHEDULE_DELAY: '0',
      OTEL_BSP_MAX_QUEUE_SIZE: ' 100 ',
      OTEL_ATTRIBUTE_COUNT_LIMIT: '10',
      OTEL_SPAN_ATTRIBUTE_COUNT_LIMIT: '20',
      OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT: '64',
    });
    expect(sdk.batch).toEqual({
      scheduledDelayMillis: 0,
      exportTimeoutMillis: 30_000,
      maxQueueSize: 100,
      maxExportBatchSize: 100,
    });
    expect(sdk.spanLimits).toMatchObject({ attributeCountLimit: 20, attributeValueLengthLimit: 64 });
    // The default batch (512) is more than the queue: cut to it.
    expect(sdk.ignored).toEqual([]);
    const asked = tracing(undefined, {
      OTEL_BSP_MAX_QUEUE_SIZE: '100',
      OTEL_BSP_MAX_EXPORT_BATCH_SIZE: '200',
    });
    expect(asked.sdk.batch.maxExportBatchSize).toBe(100);
    expect(asked.sdk.ignored).toEqual([{ name: 'OTEL_BSP_MAX_EXPORT_BATCH_SIZE', value: '200', used: 100 }]);
  });

  it('warn of an unusable OTEL_BSP_MAX_EXPORT_BATCH_SIZE once, with the size used: the queue, when smaller', () => {
    const { sdk } = tracing(undefined, {
      OTEL_BSP_MAX_QUEUE_SIZE: '100',
      OTEL_BSP_MAX_EXPORT_BATCH_SIZE: 'abc',
    });
    expect(sdk.batch.maxExportBatchSize).toBe(100);
    expect(sdk.ignored).toEqual([{ name: 'OTEL_BSP_MAX_EXPORT_BATCH_SIZE', value: 'abc', used: 100 }]);
  });

  it.each([
    ['OTEL_BSP_MAX_QUEUE_SIZE', '0', 2048],
    ['OTEL_BSP_EXPORT_TIMEOUT', '-1', 30_000],
    ['OTEL_BSP_EXPORT_TIMEOUT', '0', 30_000],
    ['OTEL_BSP_SCHEDULE_DELAY', '1.5', 5000],
    ['OTEL_BSP_SCHEDULE_DELAY', '9999999999', 5000],
    ['OTEL_SPAN_EVENT_COUNT_LIMIT', 'many', 128],
  ])('ignore %s=%j, as the SDKs do (no start failure): the default %d is used', (name, raw, used) => {
    const { sdk } = tracing(undefined, { [name]: raw });
    expect(sdk.ignored).toEqual([{ name, value: raw, used }]);
  });

  it.each([
    ['', { endpoint: 'http://localhost:2000', pollingIntervalSeconds: 300 }],
    [
      'endpoint=http://127.0.0.1:2000/,polling_interval=60',
      { endpoint: 'http://127.0.0.1:2000', pollingIntervalSeconds: 60 },
    ],
    [' polling_interval = 10 ', { endpoint: 'http://localhost:2000', pollingIntervalSeconds: 10 }],
  ])("read the xray sampler's OTEL_TRACES_SAMPLER_ARG=%j as its rules source", (arg, rules) => {
    const config = tracing(undefined, { OTEL_TRACES_SAMPLER: 'xray', OTEL_TRACES_SAMPLER_ARG: arg });
    expect(config.sampler).toBe('xray');
    expect(config.xrayRules).toEqual(rules);
    expect(config.samplerArg).toBeUndefined();
  });

  it.each([
    ['0.5', /endpoint=<http URL> and polling_interval/],
    ['endpoint=localhost:2000', /an http:\/\/ or https:\/\/ URL/],
    ['polling_interval=5', /seconds from 10 to 86400/],
    ['polling_interval=1e3', /seconds from 10 to 86400/],
    ['interval=60', /endpoint=<http URL>/],
  ])("refuse the xray sampler's OTEL_TRACES_SAMPLER_ARG=%j, naming the variable", (arg, message) => {
    const error = failure(() =>
      tracing(undefined, { OTEL_TRACES_SAMPLER: 'xray', OTEL_TRACES_SAMPLER_ARG: arg }),
    );
    expect(error.field).toBe('OTEL_TRACES_SAMPLER_ARG');
    expect(error.message).toMatch(message);
  });

  it('are frozen', () => {
    expect(Object.isFrozen(tracing({ mode: 'otel' }))).toBe(true);
  });

  it.each(['auto', 'otel', 'xray', 'off'])('accept mode %j', (mode) => {
    expect(tracing({ mode }).mode).toBe(mode);
  });

  it('take the mode from TRACING_MODE (any case), unless tracing.mode is given', () => {
    expect(tracing(undefined, { TRACING_MODE: ' OFF ' })).toMatchObject({
      mode: 'off',
      modeSource: 'TRACING_MODE',
    });
    expect(tracing({ mode: 'otel' }, { TRACING_MODE: 'off' })).toMatchObject({
      mode: 'otel',
      modeSource: 'option',
    });
    const error = failure(() => tracing(undefined, { TRACING_MODE: 'on' }));
    expect(error.field).toBe('TRACING_MODE');
    expect(error.message).toMatch(/received "on"; expected one of "auto", "otel", "xray", "off"/);
  });

  it.each([
    [{ mode: 'on' }, 'tracing.mode', /received "on"; expected one of "auto", "otel", "xray", "off"/],
    [{ mode: 1 }, 'tracing.mode', /received 1/],
    [{ fetch: 'yes' }, 'tracing.fetch', /received "yes"; expected true or false/],
    [{ httpClient: 0 }, 'tracing.httpClient', /received 0; expected true or false/],
    [
      { sampleRate: 0.1 },
      'tracing.sampleRate',
      /Unknown option tracing\.sampleRate\. Accepted keys of tracing: mode, fetch, httpClient, requestFields, propagators, xray/,
    ],
  ])('refuse %j, naming %s', (options, field, message) => {
    const error = failure(() => tracing(options));
    expect(error.field).toBe(field);
    expect(error.message).toMatch(message);
  });

  it.each([
    [['xray'], ['xray']],
    [
      ['xray', 'tracecontext'],
      ['xray', 'tracecontext'],
    ],
    [[], []],
  ])('take propagators %j over OTEL_PROPAGATORS', (propagators, expected) => {
    const config = tracing({ propagators }, { OTEL_PROPAGATORS: 'b3,tracecontext' });
    expect(config.propagators).toEqual(expected);
    expect(config.propagatorsIgnored).toEqual([]);
  });

  it.each([
    [['b3'], /received "b3"; expected an array of "tracecontext", "baggage", "xray", each at most once/],
    [['xray', 'xray'], /received "xray"; .*each at most once/],
    ['xray', /received "xray"; expected an array of/],
  ])('refuse propagators %j, naming tracing.propagators', (propagators, message) => {
    const error = failure(() => tracing({ propagators }));
    expect(error.field).toBe('tracing.propagators');
    expect(error.message).toMatch(message);
  });

  it('refuse a tracing section that is not an object', () => {
    expect(failure(() => loadConfig({ env: {}, tracing: 'otel' as never })).field).toBe('tracing');
  });
});

describe('tracing environment variables', () => {
  it('are read into the config', () => {
    expect(
      tracing(undefined, {
        OTEL_EXPORTER_OTLP_ENDPOINT: ' http://localhost:4317 ',
        OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'https://collector.internal/v1/traces',
        OTEL_EXPORTER_OTLP_PROTOCOL: 'GRPC',
        OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: 'http/json',
        OTEL_TRACES_EXPORTER: 'otlp',
        OTEL_TRACES_SAMPLER: 'parentbased_traceidratio',
        OTEL_TRACES_SAMPLER_ARG: '0.25',
        OTEL_RESOURCE_ATTRIBUTES: 'deployment.environment.name=prod, team=notes%2Capi,,',
        OTEL_SDK_DISABLED: 'FALSE',
        AWS_XRAY_DAEMON_ADDRESS: 'tcp:127.0.0.1:2000 udp:127.0.0.1:2001',
      }),
    ).toMatchObject({
      endpoint: 'http://localhost:4317',
      tracesEndpoint: 'https://collector.internal/v1/traces',
      protocol: 'grpc',
      tracesProtocol: 'http/json',
      exporter: 'otlp',
      sampler: 'parentbased_traceidratio',
      samplerArg: 0.25,
      resourceAttributes: { 'deployment.environment.name': 'prod', team: 'notes,api' },
      sdkDisabled: false,
      xrayDaemonAddress: { udp: { host: '127.0.0.1', port: 2001 }, tcp: { host: '127.0.0.1', port: 2000 } },
    });
  });

  it.each([
    ['tracecontext,baggage,xray', ['tracecontext', 'baggage', 'xray'], []],
    [' XRAY , tracecontext ', ['xray', 'tracecontext'], []],
    ['xray,xray,,baggage', ['xray', 'baggage'], []],
    ['none', [], []],
    [' None ', [], []],
    ['tracecontext,b3,jaeger,b3', ['tracecontext'], ['b3', 'jaeger']],
    ['b3multi', [], ['b3multi']],
    ['none,xray', ['xray'], ['none']],
    ['none, NONE', [], []],
  ])(
    'read OTEL_PROPAGATORS=%j, leaving out and reporting what the kit does not support',
    (raw, propagators, ignored) => {
      const config = tracing(undefined, { OTEL_PROPAGATORS: raw });
      expect(config.propagators).toEqual(propagators);
      expect(config.propagatorsIgnored).toEqual(ignored);
    },
  );

  it('treat empty values as unset', () => {
    expect(
      tracing(undefined, {
        OTEL_EXPORTER_OTLP_ENDPOINT: '  ',
        OTEL_TRACES_SAMPLER_ARG: '',
        OTEL_PROPAGATORS: ' ',
      }),
    ).toMatchObject({
      propagators: ['xray', 'tracecontext', 'baggage'],
      endpoint: undefined,
      samplerArg: undefined,
    });
  });

  const ecs = { ECS_CONTAINER_METADATA_URI_V4: 'http://169.254.170.2/v4/abc' };
  const kubernetes = { KUBERNETES_SERVICE_HOST: '10.100.0.1' };
  it.each([
    [ecs, 'aws_ecs', 'ECS_CONTAINER_METADATA_URI_V4'],
    [{ ...ecs, ...kubernetes }, 'aws_ecs', 'ECS_CONTAINER_METADATA_URI_V4'],
    [{ ...kubernetes, AWS_REGION: 'eu-west-1' }, 'aws_eks', 'KUBERNETES_SERVICE_HOST and AWS_REGION'],
    [
      { ...kubernetes, AWS_DEFAULT_REGION: 'eu-west-1' },
      'aws_eks',
      'KUBERNETES_SERVICE_HOST and AWS_DEFAULT_REGION',
    ],
    [
      { ...kubernetes, AWS_ROLE_ARN: 'arn:aws:iam::111122223333:role/notes' },
      'aws_eks',
      'KUBERNETES_SERVICE_HOST and AWS_ROLE_ARN',
    ],
    [
      { ...kubernetes, AWS_CONTAINER_CREDENTIALS_FULL_URI: 'http://169.254.170.23/v1/credentials' },
      'aws_eks',
      'KUBERNETES_SERVICE_HOST and AWS_CONTAINER_CREDENTIALS_FULL_URI',
    ],
    [
      { OTEL_RESOURCE_ATTRIBUTES: 'cloud.platform=aws_app_runner' },
      'aws_app_runner',
      'OTEL_RESOURCE_ATTRIBUTES',
    ],
    [
      { ...ecs, OTEL_RESOURCE_ATTRIBUTES: 'cloud.provider=aws,cloud.platform=aws_ec2' },
      'aws_ec2',
      'OTEL_RESOURCE_ATTRIBUTES',
    ],
  ])('recognise the platform from %j', (env, platform, from) => {
    expect(tracing(undefined, env)).toMatchObject({ platform, platformFrom: from, otherCloud: false });
  });

  it('assume no platform from Kubernetes alone: every cluster sets KUBERNETES_SERVICE_HOST', () => {
    expect(tracing(undefined, kubernetes)).toMatchObject({ platform: undefined, otherCloud: false });
  });

  it.each([
    [
      {
        ...kubernetes,
        AWS_REGION: 'eu-west-1',
        OTEL_RESOURCE_ATTRIBUTES: 'cloud.platform=gcp_kubernetes_engine',
      },
    ],
    [{ ...ecs, OTEL_RESOURCE_ATTRIBUTES: 'cloud.provider=azure,cloud.platform=azure_aks' }],
    [{ ...kubernetes, AWS_REGION: 'eu-west-1', OTEL_RESOURCE_ATTRIBUTES: 'cloud.provider=gcp' }],
    [{ OTEL_RESOURCE_ATTRIBUTES: 'cloud.provider=gcp,cloud.platform=aws_eks' }],
  ])('assume no AWS platform where OTEL_RESOURCE_ATTRIBUTES names another cloud: %j', (env) => {
    expect(tracing(undefined, env)).toMatchObject({
      platform: undefined,
      platformFrom: 'OTEL_RESOURCE_ATTRIBUTES',
      otherCloud: true,
    });
  });

  it.each([
    ['OTEL_EXPORTER_OTLP_ENDPOINT', 'localhost:4317', /an http:\/\/ or https:\/\/ URL/],
    ['OTEL_EXPORTER_OTLP_ENDPOINT', 'ftp://collector:21', /an http:\/\/ or https:\/\/ URL/],
    ['OTEL_EXPORTER_OTLP_ENDPOINT', 'http://user:secret@collector:4317', /without credentials/],
    ['OTEL_EXPORTER_OTLP_TRACES_ENDPOINT', 'not a url', /an http:\/\/ or https:\/\/ URL/],
    ['OTEL_EXPORTER_OTLP_PROTOCOL', 'http', /one of "grpc", "http\/protobuf", "http\/json"/],
    ['OTEL_EXPORTER_OTLP_TRACES_PROTOCOL', 'udp', /one of "grpc", "http\/protobuf", "http\/json"/],
    ['OTEL_EXPORTER_OTLP_TIMEOUT', '0', /an integer from 1 to 600000/],
    ['OTEL_EXPORTER_OTLP_TRACES_TIMEOUT', '10s', /an integer from 1 to 600000/],
    ['OTEL_TRACES_EXPORTER', 'console', /"otlp" or "none".*console/],
    ['OTEL_TRACES_EXPORTER', 'otlp,zipkin', /"otlp" or "none"/],
    ['OTEL_TRACES_SAMPLER', 'xray_remote', /one of "always_on", "always_off", "traceidratio"/],
    ['OTEL_TRACES_SAMPLER_ARG', '1.5', /a number from 0 to 1/],
    ['OTEL_TRACES_SAMPLER_ARG', '-0.1', /a number from 0 to 1/],
    ['OTEL_TRACES_SAMPLER_ARG', 'half', /a number from 0 to 1/],
    ['OTEL_SDK_DISABLED', 'yes', /"true" or "false"/],
    ['AWS_XRAY_DAEMON_ADDRESS', 'localhost', /host:port/],
    ['AWS_XRAY_DAEMON_ADDRESS', 'tcp:a:1 udp:b:2 udp:c:3', /host:port/],
    ['KUBERNETES_SERVICE_HOST', '10.0.0.1\n', /without control characters/],
  ])('refuse %s=%j, naming the variable', (name, value, message) => {
    const error = failure(() => tracing(undefined, { [name]: value }));
    expect(error.field).toBe(name);
    expect(error.message).toContain(name);
    expect(error.message).toMatch(message);
  });

  it.each([
    ['team', /key=value pairs/],
    ['team=%E0%A4%A', /key=value pairs/],
    ['bad key=1', /key=value pairs/],
    [`a=${'x'.repeat(5000)}`, /at most 4096 characters/],
  ])(
    'refuse OTEL_RESOURCE_ATTRIBUTES=%j where OpenTelemetry traces, naming the variable',
    (value, message) => {
      for (const [options, env] of [
        [{ mode: 'otel' }, {}],
        [undefined, { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:4318' }],
      ] as const) {
        const error = failure(() => tracing(options, { OTEL_RESOURCE_ATTRIBUTES: value, ...env }));
        expect(error.field).toBe('OTEL_RESOURCE_ATTRIBUTES');
        expect(error.message).toMatch(message);
      }
    },
  );

  it.each([
    ['tracing off', { mode: 'off' }, {}],
    ['auto, nothing to trace to', undefined, {}],
    ['the X-Ray SDK', { mode: 'xray' }, {}],
  ])(
    '%s: pairs of OTEL_RESOURCE_ATTRIBUTES it cannot read are left out, not refused',
    (_name, options, env) => {
      const config = loadConfig({
        env: { OTEL_RESOURCE_ATTRIBUTES: 'team=50%,a=b,c,service.name=billing', ...env },
        ...(options === undefined ? {} : { tracing: options as never }),
      }).config;
      expect(config.tracing.resourceAttributes).toEqual({ a: 'b', 'service.name': 'billing' });
      expect(config.tracing.resourceAttributesIgnored).toEqual(['team=50%', 'c']);
      expect(config.service).toBe('billing');
    },
  );
});
