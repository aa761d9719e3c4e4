import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../../src/config/config.js';
import type { TracingMode } from '../../../src/config/tracing.js';
import { withQueryMasked } from '../../../src/config/tracing.js';
import { resolveTracingMode } from '../../../src/tracing/mode.js';
import { resolveExportTarget } from '../../../src/tracing/otel/export-target.js';

function plan(env: Record<string, string>, mode?: TracingMode) {
  const { config } = loadConfig({ env, ...(mode === undefined ? {} : { tracing: { mode } }) });
  return resolveTracingMode(config.tracing);
}

function target(env: Record<string, string>) {
  return resolveExportTarget(loadConfig({ env }).config.tracing);
}

describe('tracing mode resolution', () => {
  it.each([
    [{ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://localhost:4317' }, 'otel', 'OTEL_EXPORTER_OTLP_ENDPOINT is set'],
    [
      { OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://c:4318/v1/traces' },
      'otel',
      'OTEL_EXPORTER_OTLP_TRACES_ENDPOINT is set',
    ],
    [{ OTEL_TRACES_EXPORTER: 'otlp' }, 'otel', 'OTEL_TRACES_EXPORTER is set'],
    [
      { OTEL_TRACES_EXPORTER: 'none', OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4317' },
      'off',
      'OTEL_TRACES_EXPORTER is "none"',
    ],
    [
      { OTEL_SDK_DISABLED: 'true', OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4317' },
      'off',
      'OTEL_SDK_DISABLED is true',
    ],
    [
      { OTEL_SDK_DISABLED: 'false', OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4317' },
      'otel',
      'OTEL_EXPORTER_OTLP_ENDPOINT is set',
    ],
    [{}, 'off', 'no OTEL_EXPORTER_OTLP_* endpoint, OTEL_TRACES_EXPORTER or AWS_XRAY_DAEMON_ADDRESS is set'],
    [
      { OTEL_SERVICE_NAME: 'notes', OTEL_TRACES_SAMPLER: 'always_on' },
      'off',
      'no OTEL_EXPORTER_OTLP_* endpoint, OTEL_TRACES_EXPORTER or AWS_XRAY_DAEMON_ADDRESS is set',
    ],
  ])('auto with %j: %s', (env, backend, reason) => {
    expect(plan(env)).toEqual({ backend, reason, warning: undefined });
  });

  it('auto with only AWS_XRAY_DAEMON_ADDRESS: the X-Ray SDK', () => {
    expect(plan({ AWS_XRAY_DAEMON_ADDRESS: '127.0.0.1:2000' })).toEqual({
      backend: 'xray',
      reason: 'AWS_XRAY_DAEMON_ADDRESS is set',
      warning: undefined,
    });
  });

  it('auto with AWS_XRAY_DAEMON_ADDRESS and OTEL_SDK_DISABLED=true or OTEL_TRACES_EXPORTER=none: off', () => {
    expect(plan({ AWS_XRAY_DAEMON_ADDRESS: '127.0.0.1:2000', OTEL_SDK_DISABLED: 'true' }).backend).toBe(
      'off',
    );
    expect(plan({ AWS_XRAY_DAEMON_ADDRESS: '127.0.0.1:2000', OTEL_TRACES_EXPORTER: 'none' }).backend).toBe(
      'off',
    );
  });

  it('auto prefers OpenTelemetry when both are configured', () => {
    expect(
      plan({ AWS_XRAY_DAEMON_ADDRESS: '127.0.0.1:2000', OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4317' }),
    ).toEqual({
      backend: 'otel',
      reason: 'OTEL_EXPORTER_OTLP_ENDPOINT is set (it wins over AWS_XRAY_DAEMON_ADDRESS)',
      warning: undefined,
    });
  });

  it('TRACING_MODE chooses as tracing.mode does, which wins over it', () => {
    expect(plan({ TRACING_MODE: 'off', OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4317' })).toEqual({
      backend: 'off',
      reason: 'TRACING_MODE is "off"',
    });
    expect(plan({ TRACING_MODE: 'off' }, 'otel')).toEqual({
      backend: 'otel',
      reason: 'tracing.mode is "otel"',
    });
    expect(plan({ TRACING_MODE: 'auto', AWS_XRAY_DAEMON_ADDRESS: '127.0.0.1:2000' }).backend).toBe('xray');
  });

  it('an explicit mode wins over the environment', () => {
    expect(plan({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4317' }, 'off').backend).toBe('off');
    expect(plan({ OTEL_SDK_DISABLED: 'true' }, 'otel').backend).toBe('otel');
    expect(plan({ AWS_XRAY_DAEMON_ADDRESS: '127.0.0.1:2000' }, 'off').backend).toBe('off');
    expect(plan({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4317' }, 'xray').backend).toBe('xray');
    expect(plan({}, 'xray')).toEqual({
      backend: 'xray',
      reason: 'tracing.mode is "xray"',
      warning: undefined,
    });
  });
});

describe('OTLP export target', () => {
  it('takes the traces timeout over the general one', () => {
    expect(target({ OTEL_EXPORTER_OTLP_TIMEOUT: '3000' }).timeoutMs).toBe(3000);
    expect(
      target({ OTEL_EXPORTER_OTLP_TIMEOUT: '3000', OTEL_EXPORTER_OTLP_TRACES_TIMEOUT: '500' }).timeoutMs,
    ).toBe(500);
  });

  it.each([
    // App Runner's documented value: no protocol, port 4317 → gRPC (the documented deviation).
    [{ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://localhost:4317' }, 'grpc', 'http://localhost:4317', 'port 4317'],
    [
      { OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://collector:4317' },
      'grpc',
      'http://collector:4317',
      'port 4317',
    ],
    [
      { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://localhost:4318' },
      'http/protobuf',
      'http://localhost:4318/v1/traces',
      'default',
    ],
    [
      { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318/otlp/' },
      'http/protobuf',
      'http://c:4318/otlp/v1/traces',
      'default',
    ],
    [{ OTEL_TRACES_EXPORTER: 'otlp' }, 'http/protobuf', 'http://localhost:4318/v1/traces', 'default'],
    [
      { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://localhost:4317', OTEL_EXPORTER_OTLP_PROTOCOL: 'http/protobuf' },
      'http/protobuf',
      'http://localhost:4317/v1/traces',
      'OTEL_EXPORTER_OTLP_PROTOCOL',
    ],
    [
      { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318', OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc' },
      'grpc',
      'http://c:4318',
      'OTEL_EXPORTER_OTLP_PROTOCOL',
    ],
    [{ OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc' }, 'grpc', 'http://localhost:4317', 'OTEL_EXPORTER_OTLP_PROTOCOL'],
    [
      {
        OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4317',
        OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'https://t.example:443/custom',
        OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc',
        OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: 'http/json',
      },
      'http/json',
      'https://t.example:443/custom',
      'OTEL_EXPORTER_OTLP_TRACES_PROTOCOL',
    ],
    [
      {
        OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4317',
        OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://c:4318/v1/traces',
      },
      'http/protobuf',
      'http://c:4318/v1/traces',
      'default',
    ],
    [
      // A token some collectors take in the query: kept, after the signal's path, not before it.
      { OTEL_EXPORTER_OTLP_ENDPOINT: 'https://otlp.example:4318/otlp?api_key=s3cr3t' },
      'http/protobuf',
      'https://otlp.example:4318/otlp/v1/traces?api_key=s3cr3t',
      'default',
    ],
  ])('%j → %s to %s', (env, protocol, url, protocolFrom) => {
    expect(target(env)).toEqual({
      protocol,
      url,
      shownUrl: withQueryMasked(url),
      protocolFrom,
      timeoutMs: undefined,
    });
  });

  it('shows a URL on its lines with the values of its query masked', () => {
    expect(
      target({ OTEL_EXPORTER_OTLP_ENDPOINT: 'https://o.example/?api_key=s3cr3t&region=x' }).shownUrl,
    ).toBe('https://o.example/v1/traces?api_key=***&region=***');
  });

  it('never quotes the credentials of an endpoint it refuses for them', () => {
    for (const endpoint of [
      'http://apiuser:Sup3rS3cretTok@collector:4318',
      'apiuser:Sup3rS3cretTok@collector:4318',
      ' http://apiuser:Sup3rS3cretTok@collector:4318',
      'http://apiuser:Sup3r/S3cretTok@collector:4318',
      'http://apiuser:Sup3r?S3cretTok@collector:4318',
      'http://apiuser:Sup3r#S3cretTok@collector:4318',
      'http://apiuser:Sup3r@S3cretTok@collector:4318',
    ]) {
      const error = (() => {
        try {
          target({ OTEL_EXPORTER_OTLP_ENDPOINT: endpoint });
        } catch (thrown) {
          return thrown as Error;
        }
        return undefined;
      })();
      expect(error?.message).toMatch(/without credentials/);
      expect(error?.message).not.toMatch(/Sup3r|S3cretTok/);
    }
  });
});
