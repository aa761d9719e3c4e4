import { execFile } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import { createServer as createNetServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadTraceSdk } from '../../../src/tracing/otel/trace-sdk.js';
import { baseUrl } from '../../support/http.js';
import { type OtlpCollector, startOtlpCollector } from '../../support/otlp-collector.js';
import { callerRoot } from './support.js';

const run = promisify(execFile);
const root = new URL('../../..', import.meta.url).pathname;
const fixtures = join(root, 'test/fixtures/tracing');
// `@opentelemetry/sdk-trace-base` on the 2.x line, `@opentelemetry/sdk-trace` on the 3.x line.
const { packageName: sdkPackage } = await loadTraceSdk();

interface Report {
  readonly mode?: string;
  readonly status?: number;
  readonly error?: { name: string; code: string; message: string; packageName: string };
  /** The CommonJS cache, and the URLs that went through the ESM loader. */
  readonly loaded: string[];
}

/** Runs a fixture app in a child process, with `env`, from `dir` (default: the fixtures). */
async function runApp(script: string, env: Record<string, string>, dir = fixtures): Promise<Report> {
  const work = mkdtempSync(join(tmpdir(), 'kit-loads-'));
  const loadsFile = join(work, 'loads.txt');
  try {
    const { stdout } = await run(
      process.execPath,
      ['--import', join(fixtures, 'record-loads.mjs'), join(dir, script)],
      {
        env: { PATH: process.env.PATH ?? '', LOADS_FILE: loadsFile, ...env },
        timeout: 20_000,
      },
    );
    const report = JSON.parse(stdout.trim().split('\n').at(-1)!) as Omit<Report, 'loaded'> & {
      cjs: string[];
    };
    let esm: string[] = [];
    try {
      esm = readFileSync(loadsFile, 'utf8').trim().split('\n');
    } catch {
      // nothing went through the ESM loader
    }
    return { ...report, loaded: [...report.cjs, ...esm] };
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

const otel = (loaded: string[]) => loaded.filter((url) => url.includes('@opentelemetry'));
const xraySdk = (loaded: string[]) => loaded.filter((url) => url.includes('/aws-xray-sdk-core/'));

let collector: OtlpCollector;
let downstream: Server;
const received: IncomingHttpHeaders[] = [];

beforeAll(async () => {
  collector = await startOtlpCollector({ grpc: false });
  downstream = createServer((req, res) => {
    received.push(req.headers);
    res.end();
  });
  await new Promise<void>((resolve) => downstream.listen(0, '127.0.0.1', resolve));
});

afterAll(async () => {
  await collector.close();
  await new Promise((resolve) => downstream.close(resolve));
});

describe('with tracing off', () => {
  it('importing and running the ESM build loads no OpenTelemetry module', async () => {
    const report = await runApp('app.mjs', { DOWNSTREAM: baseUrl(downstream) });
    expect(report).toMatchObject({ mode: 'off', status: 200 });
    expect(report.loaded.some((url) => url.endsWith('/dist/index.js'))).toBe(true);
    expect(otel(report.loaded)).toEqual([]);
    expect(xraySdk(report.loaded)).toEqual([]);
  });

  it('requiring and running the CommonJS build loads no OpenTelemetry module', async () => {
    const report = await runApp('app.cjs', {});
    expect(report).toMatchObject({ mode: 'off', status: 200 });
    expect(report.loaded.some((path) => path.endsWith('/dist/index.cjs'))).toBe(true);
    expect(otel(report.loaded)).toEqual([]);
    expect(xraySdk(report.loaded)).toEqual([]);
  });
});

describe('with tracing on', () => {
  const env = () => ({
    OTEL_EXPORTER_OTLP_ENDPOINT: collector.httpUrl,
    OTEL_EXPORTER_OTLP_PROTOCOL: 'http/protobuf',
  });

  it('the ESM build loads OpenTelemetry and only the exporter of the protocol', async () => {
    const report = await runApp('app.mjs', env());
    expect(report).toMatchObject({ mode: 'otel', status: 200 });
    const loaded = otel(report.loaded).join('\n');
    for (const name of ['api', 'core', 'resources', 'exporter-trace-otlp-proto']) {
      expect(loaded).toContain(`@opentelemetry/${name}/`);
    }
    expect(loaded).toContain(`${sdkPackage}/`);
    expect(loaded).not.toContain('@opentelemetry/exporter-trace-otlp-grpc/');
    expect(loaded).not.toContain('@opentelemetry/sampler-aws-xray/');
    expect(xraySdk(report.loaded)).toEqual([]);
  });

  it('OTEL_TRACES_SAMPLER=xray: the process ends by itself after shutdown, though the rules endpoint never answers', async () => {
    const held: Socket[] = [];
    const hanging = createNetServer((socket) => held.push(socket));
    await new Promise<void>((resolve) => hanging.listen(0, '127.0.0.1', resolve));
    try {
      const { port } = hanging.address() as { port: number };
      const began = Date.now();
      const report = await runApp('app.mjs', {
        ...env(),
        OTEL_TRACES_SAMPLER: 'xray',
        OTEL_TRACES_SAMPLER_ARG: `endpoint=http://127.0.0.1:${port}`,
      });
      expect(report).toMatchObject({ mode: 'otel', status: 200 });
      expect(otel(report.loaded).join('\n')).toContain('@opentelemetry/sampler-aws-xray/');
      expect(held.length).toBeGreaterThanOrEqual(1); // the rules were asked for, and never answered
      expect(Date.now() - began).toBeLessThan(10_000);
    } finally {
      for (const socket of held) socket.destroy();
      await new Promise((resolve) => hanging.close(resolve));
    }
  });

  it('the CommonJS build loads them when the mode needs them', async () => {
    const report = await runApp('app.cjs', env());
    expect(report).toMatchObject({ mode: 'otel', status: 200 });
    expect(otel(report.loaded).join('\n')).toContain(`${sdkPackage}/`);
  });

  it('reaches `import { request } from "node:http"` bound before the kit started, without a loader', async () => {
    received.length = 0;
    const report = await runApp('app.mjs', {
      ...env(),
      DOWNSTREAM: `${baseUrl(downstream)}/named-import`,
      TRACE_HEADER: `Root=${callerRoot};Sampled=1`,
    });
    expect(report.status).toBe(200);
    expect(received[0]?.['x-amzn-trace-id']).toMatch(
      new RegExp(`^Root=${callerRoot};Parent=[0-9a-f]{16};Sampled=1$`),
    );
  });
});

describe('a missing OpenTelemetry package', () => {
  let install: string;

  /** A copy of the built package whose node_modules lacks `missing` (everything else linked). */
  function installWithout(missing: string): string {
    const dir = join(install, missing.replace('/', '_'));
    const modules = join(dir, 'node_modules');
    mkdirSync(join(modules, '@opentelemetry'), { recursive: true });
    for (const entry of readdirSync(join(root, 'node_modules'))) {
      if (entry === '@opentelemetry' || entry === 'apprunner-kit' || entry.startsWith('.')) continue;
      symlinkSync(join(root, 'node_modules', entry), join(modules, entry));
    }
    for (const entry of readdirSync(join(root, 'node_modules/@opentelemetry'))) {
      if (`@opentelemetry/${entry}` === missing) continue;
      symlinkSync(join(root, 'node_modules/@opentelemetry', entry), join(modules, '@opentelemetry', entry));
    }
    const kit = join(modules, 'apprunner-kit');
    mkdirSync(kit);
    cpSync(join(root, 'dist'), join(kit, 'dist'), { recursive: true });
    cpSync(join(root, 'package.json'), join(kit, 'package.json'));
    cpSync(join(fixtures, 'app.mjs'), join(dir, 'app.mjs'));
    cpSync(join(fixtures, 'app.cjs'), join(dir, 'app.cjs'));
    return dir;
  }

  beforeAll(() => {
    install = mkdtempSync(join(tmpdir(), 'kit-missing-'));
  });

  afterAll(() => {
    rmSync(install, { recursive: true, force: true });
  });

  it.each([
    ['@opentelemetry/exporter-trace-otlp-grpc', 'grpc', 'app.mjs'],
    [sdkPackage, 'http/protobuf', 'app.mjs'],
    ['@opentelemetry/exporter-trace-otlp-http', 'http/json', 'app.cjs'],
  ])(
    '%s: the boot fails with ARK_DEPENDENCY_MISSING and the npm command (%s, %s)',
    async (missing, protocol, app) => {
      const dir = installWithout(missing);
      const report = await runApp(
        app,
        { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:9', OTEL_EXPORTER_OTLP_PROTOCOL: protocol },
        dir,
      );
      expect(report.error).toEqual({
        name: 'MissingDependencyError',
        code: 'ARK_DEPENDENCY_MISSING',
        packageName: missing,
        message: `Tracing through OpenTelemetry needs the package "${missing}", which is not installed. Install it with: npm install ${missing}`,
      });
    },
  );

  it('@opentelemetry/sampler-aws-xray: OTEL_TRACES_SAMPLER=xray fails the boot, naming the package', async () => {
    const missing = '@opentelemetry/sampler-aws-xray';
    const report = await runApp(
      'app.mjs',
      {
        OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:9',
        OTEL_TRACES_SAMPLER: 'xray',
        OTEL_TRACES_SAMPLER_ARG: 'endpoint=http://127.0.0.1:9',
      },
      installWithout(missing),
    );
    expect(report.error).toEqual({
      name: 'MissingDependencyError',
      code: 'ARK_DEPENDENCY_MISSING',
      packageName: missing,
      message: `OTEL_TRACES_SAMPLER=xray needs the package "${missing}", which is not installed. Install it with: npm install ${missing}`,
    });
  });

  it('is no error with tracing off', async () => {
    const report = await runApp('app.mjs', {}, installWithout('@opentelemetry/api'));
    expect(report).toMatchObject({ mode: 'off', status: 200 });
  });
});
