import { execFile } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startXRayDaemon, type XRayDaemon, xrayDaemonAddress } from '../../support/xray-daemon.js';

const root = new URL('../../..', import.meta.url).pathname;
const fixtures = join(root, 'test/fixtures/tracing');

interface Report {
  readonly mode?: string;
  readonly status?: number;
  readonly clsNamespace?: boolean;
  readonly warnings?: string[];
  readonly error?: { name: string; code: string; message: string; packageName: string };
  /** The CommonJS cache, and the URLs that went through the ESM loader. */
  readonly loaded: string[];
}

/**
 * Runs a fixture app in a child process and waits for it to end by itself (the fixtures never call
 * process.exit): a timer or socket left behind would keep it running until the 15 s kill.
 */
async function runApp(
  script: string,
  env: Record<string, string>,
  dir = fixtures,
): Promise<Report & { ms: number }> {
  const work = mkdtempSync(join(tmpdir(), 'kit-xray-'));
  const loadsFile = join(work, 'loads.txt');
  const started = Date.now();
  try {
    const stdout = await new Promise<string>((resolve, reject) => {
      execFile(
        process.execPath,
        ['--import', join(fixtures, 'record-loads.mjs'), join(dir, script)],
        { env: { PATH: process.env.PATH ?? '', LOADS_FILE: loadsFile, ...env }, timeout: 15_000 },
        (error, out, err) => {
          if (error) reject(new Error(`${script} did not end by itself: ${error.message}\n${err}`));
          else resolve(out);
        },
      );
    });
    const report = JSON.parse(stdout.trim().split('\n').at(-1)!) as Omit<Report, 'loaded'> & {
      cjs: string[];
    };
    let esm: string[] = [];
    try {
      esm = readFileSync(loadsFile, 'utf8').trim().split('\n');
    } catch {
      // nothing went through the ESM loader
    }
    return { ...report, loaded: [...report.cjs, ...esm], ms: Date.now() - started };
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

const xraySdk = (loaded: string[]) => loaded.filter((url) => url.includes('/aws-xray-sdk-core/'));
const otel = (loaded: string[]) => loaded.filter((url) => url.includes('@opentelemetry'));

let daemon: XRayDaemon;
/** A sampling endpoint that accepts connections and never answers. */
let hanging: Server;
const held: Socket[] = [];

beforeAll(async () => {
  daemon = await startXRayDaemon({ sharePort: false });
  hanging = createServer((socket) => held.push(socket));
  await new Promise<void>((resolve) => hanging.listen(0, '127.0.0.1', resolve));
});

afterAll(async () => {
  for (const socket of held) socket.destroy();
  await new Promise((resolve) => hanging.close(resolve));
  await daemon.close();
});

describe('in xray mode', () => {
  it('the ESM build loads aws-xray-sdk-core in manual mode, and no OpenTelemetry module', async () => {
    const report = await runApp('xray-app.mjs', { AWS_XRAY_DAEMON_ADDRESS: daemon.address });
    expect(report).toMatchObject({ mode: 'xray', status: 200, clsNamespace: false, warnings: [] });
    expect(xraySdk(report.loaded)).not.toEqual([]);
    expect(otel(report.loaded)).toEqual([]);
    await daemon.waitFor((d) => d.segments.length === 1);
    expect(daemon.samplingRequests[0]?.path).toBe('/GetSamplingRules');
    daemon.clear();
  });

  it('the process ends by itself after shutdown, though the sampling endpoint never answers', async () => {
    const { port } = hanging.address() as { port: number };
    const report = await runApp('xray-app.mjs', {
      AWS_XRAY_DAEMON_ADDRESS: xrayDaemonAddress(daemon.udpPort, port),
    });
    expect(report).toMatchObject({ mode: 'xray', status: 200 });
    expect(held.length).toBeGreaterThanOrEqual(1); // the rules were asked for, and never answered
    expect(report.ms).toBeLessThan(10_000);
    daemon.clear();
  });

  it('an AWS_XRAY_DAEMON_ADDRESS in capitals starts: the SDK, loading, reads the form it parses', async () => {
    const report = await runApp('xray-app.mjs', {
      AWS_XRAY_DAEMON_ADDRESS: `TCP:127.0.0.1:${daemon.tcpPort} UDP:127.0.0.1:${daemon.udpPort}`,
    });
    expect(report).toMatchObject({ mode: 'xray', status: 200, warnings: [] });
    expect(report.error).toBeUndefined();
    await daemon.waitFor((d) => d.segments.length === 1);
    daemon.clear();
  });

  it('the CommonJS build loads it too', async () => {
    const report = await runApp('app.cjs', { AWS_XRAY_DAEMON_ADDRESS: daemon.address });
    expect(report).toMatchObject({ mode: 'xray', status: 200 });
    expect(xraySdk(report.loaded)).not.toEqual([]);
    expect(otel(report.loaded)).toEqual([]);
    daemon.clear();
  });
});

describe('with tracing off', () => {
  it('aws-xray-sdk-core is never loaded, ESM or CommonJS', async () => {
    for (const app of ['xray-app.mjs', 'app.cjs']) {
      const report = await runApp(app, {});
      expect(report).toMatchObject({ mode: 'off', status: 200 });
      expect(xraySdk(report.loaded)).toEqual([]);
    }
  });
});

describe('a missing aws-xray-sdk-core', () => {
  let install: string;

  beforeAll(() => {
    install = mkdtempSync(join(tmpdir(), 'kit-no-xray-'));
    const modules = join(install, 'node_modules');
    mkdirSync(modules);
    for (const entry of readdirSync(join(root, 'node_modules'))) {
      if (entry === 'aws-xray-sdk-core' || entry === 'apprunner-kit' || entry.startsWith('.')) continue;
      symlinkSync(join(root, 'node_modules', entry), join(modules, entry));
    }
    const kit = join(modules, 'apprunner-kit');
    mkdirSync(kit);
    cpSync(join(root, 'dist'), join(kit, 'dist'), { recursive: true });
    cpSync(join(root, 'package.json'), join(kit, 'package.json'));
    cpSync(join(fixtures, 'xray-app.mjs'), join(install, 'xray-app.mjs'));
    cpSync(join(fixtures, 'app.cjs'), join(install, 'app.cjs'));
  });

  afterAll(() => {
    rmSync(install, { recursive: true, force: true });
  });

  it.each(['xray-app.mjs', 'app.cjs'])(
    'fails the boot with ARK_DEPENDENCY_MISSING and the npm command (%s)',
    async (app) => {
      const report = await runApp(app, { AWS_XRAY_DAEMON_ADDRESS: '127.0.0.1:2000' }, install);
      expect(report.error).toEqual({
        name: 'MissingDependencyError',
        code: 'ARK_DEPENDENCY_MISSING',
        packageName: 'aws-xray-sdk-core',
        message:
          'Tracing through the X-Ray SDK needs the package "aws-xray-sdk-core", which is not installed. Install it with: npm install aws-xray-sdk-core',
      });
    },
  );

  it('is no error with tracing off', async () => {
    const report = await runApp('xray-app.mjs', {}, install);
    expect(report).toMatchObject({ mode: 'off', status: 200 });
  });
});
