import { execFile } from 'node:child_process';
import { chmodSync, cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../../support/child.js';
import { brokenLinks, markdownFiles } from '../../unit/docs/docs-check.js';

const run = promisify(execFile);
const root = new URL('../../../', import.meta.url).pathname;
const examples = ['express', 'fastify', 'koa'] as const;

describe.each(examples)('examples/%s: image and deployment files', (name) => {
  const dir = join(root, 'examples', name);
  const dockerfile = readFileSync(join(dir, 'Dockerfile'), 'utf8');
  const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as {
    dependencies: Record<string, string>;
    devDependencies?: Record<string, string>;
  };

  it('builds in stages on a slim Node 22 base, installs production dependencies only', () => {
    const bases = [...dockerfile.matchAll(/^FROM\s+(\S+)/gm)].map((m) => m[1]);
    expect(bases.length).toBeGreaterThanOrEqual(2);
    expect(bases.every((base) => /^node:22(\.\d+)*-(slim|bookworm-slim)$/.test(base!))).toBe(true);
    expect(dockerfile).toMatch(/npm ci --omit=dev/);
    expect(dockerfile).not.toMatch(/npm (install|ci)(?![^\n]*--omit=dev)/);
    expect(pkg.devDependencies).toBeUndefined();
  });

  it('runs as a non-root user, with node itself receiving SIGTERM (exec form, no npm wrapper)', () => {
    const users = [...dockerfile.matchAll(/^USER\s+(\S+)/gm)].map((m) => m[1]);
    expect(users.at(-1)).toBeDefined();
    expect(users.at(-1)).not.toMatch(/^(root|0)$/);
    const cmd = /^CMD\s+(.+)$/m.exec(dockerfile)?.[1] ?? '';
    expect(JSON.parse(cmd)).toEqual(['node', 'server.mjs']);
    expect(dockerfile).not.toMatch(/^ENTRYPOINT/m);
  });

  it('copies every file the server imports, and ignores the rest', () => {
    const server = readFileSync(join(dir, 'server.mjs'), 'utf8');
    for (const [, local] of server.matchAll(/from '\.\/([^']+)'/g)) expect(dockerfile).toContain(local);
    const ignored = readFileSync(join(dir, '.dockerignore'), 'utf8').split('\n');
    expect(ignored).toEqual(expect.arrayContaining(['node_modules', '.git']));
  });

  it('has an apprunner.yaml for a nodejs22 source deployment and an instance-role policy', () => {
    const yaml = readFileSync(join(dir, 'apprunner.yaml'), 'utf8');
    expect(yaml).toMatch(/^runtime: nodejs22$/m);
    expect(yaml).toMatch(/command: node server\.mjs/);
    expect(yaml).toMatch(/port: 8080/);
    expect(yaml).toMatch(/npm ci --omit=dev/);
    const policy = JSON.parse(readFileSync(join(dir, 'iam-policy.json'), 'utf8')) as {
      Statement: { Action: string[] }[];
    };
    const actions = policy.Statement.flatMap((s) => s.Action);
    expect(actions).toEqual(
      expect.arrayContaining([
        'secretsmanager:GetSecretValue',
        'ssm:GetParameters',
        'kms:Decrypt',
        'xray:PutTraceSegments',
      ]),
    );
  });
});

describe('the packed package, installed into fresh apps as users install it', () => {
  let work: string;
  let tarball: string;

  beforeAll(async () => {
    work = mkdtempSync(join(tmpdir(), 'apprunner-kit-install-'));
    // --ignore-scripts: the package's prepack would rebuild dist/, emptying it under the tests that run
    // against it meanwhile; the test setup has built it already.
    const { stdout } = await run(
      'npm',
      ['pack', '--silent', '--ignore-scripts', '--pack-destination', work],
      {
        cwd: root,
      },
    );
    tarball = join(work, stdout.trim().split('\n').at(-1)!);
  }, 60_000);

  afterAll(() => rmSync(work, { recursive: true, force: true }));

  it.each(examples)(
    'examples/%s installs with production dependencies only and runs as a non-root user',
    async (name) => {
      const app = join(work, name);
      cpSync(join(root, 'examples', name), app, { recursive: true });
      rmSync(join(app, 'node_modules'), { recursive: true, force: true });
      const pkg = JSON.parse(readFileSync(join(app, 'package.json'), 'utf8')) as {
        dependencies: Record<string, string>;
      };
      const others = Object.entries(pkg.dependencies)
        .filter(([dep]) => dep !== 'apprunner-kit')
        .map(([dep, range]) => `${dep}@${range}`);
      await run(
        'npm',
        ['install', '--omit=dev', '--no-audit', '--no-fund', '--no-save', tarball, ...others],
        {
          cwd: app,
          timeout: 180_000,
        },
      );
      expect(existsSync(join(app, 'node_modules', 'apprunner-kit', 'dist', 'index.js'))).toBe(true);
      expect(readdirSync(join(app, 'node_modules'))).not.toContain('vitest');
      chmodSync(work, 0o755);
      const port = await freePort();
      const script = [
        `node server.mjs & pid=$!`,
        `for i in $(seq 1 50); do curl -sf localhost:${port}/healthz >/dev/null && break; sleep 0.1; done`,
        `curl -sf localhost:${port}/healthz`,
        `kill -TERM $pid; wait $pid; echo "exit=$?"`,
      ].join('; ');
      // runuser lives in /usr/sbin, which a non-login PATH may lack.
      const runuser = ['/usr/sbin/runuser', '/sbin/runuser'].find((path) => existsSync(path)) ?? 'runuser';
      const asUser =
        process.getuid?.() === 0 ? [runuser, '-u', 'nobody', '--', 'sh', '-c', script] : ['sh', '-c', script];
      const { stdout } = await run(asUser[0]!, asUser.slice(1), {
        cwd: app,
        env: { PATH: process.env.PATH ?? '', PORT: String(port), HOME: '/tmp' },
        timeout: 30_000,
      });
      expect(stdout).toContain('"status":"pass"');
      expect(stdout).toContain('exit=0');
    },
    240_000,
  );

  it('carries the guides, the templates and the examples its README and docs link to', async () => {
    const unpacked = join(work, 'unpacked');
    await run('mkdir', ['-p', unpacked]);
    await run('tar', ['xzf', tarball, '-C', unpacked]);
    const pkgRoot = join(unpacked, 'package');
    const pages = [...markdownFiles(pkgRoot), 'BENCHMARKS.md'];
    expect(pages).toEqual(expect.arrayContaining(['docs/getting-started.md', 'docs/migrating/pino-http.md']));
    // BENCHMARKS.md's reliability table links each failure mode to the test that covers it, in the
    // repository: the suites are the one thing the package leaves out on purpose.
    const broken = pages.flatMap((page) => brokenLinks(page, pkgRoot));
    expect(broken.filter((line) => !/ → test\/\S+\.test\.ts \(/.test(line))).toEqual([]);
    expect(existsSync(join(pkgRoot, 'docs', 'api'))).toBe(false);
  });

  it('loads from CommonJS too, with the same request context as ESM', async () => {
    const app = join(work, 'express');
    const script = `
      const http = require('node:http');
      const kit = require('apprunner-kit');
      (async () => {
        const esm = await import('apprunner-kit');
        const runtime = await kit.bootstrapAppRunner({
          port: 0, logging: { destination: { write() {} } }, shutdown: { exit: false, signals: [] },
          app: (_req, res) => res.end(String(esm.getRequestContext()?.requestId)),
        });
        http.get({ port: runtime.server.address().port, path: '/', headers: { 'x-request-id': 'cjs-1' } }, (res) => {
          let body = '';
          res.on('data', (c) => (body += c));
          res.on('end', async () => { process.stdout.write(body); await runtime.shutdown(); });
        });
      })();`;
    const { stdout } = await run(process.execPath, ['-e', script], { cwd: app, timeout: 20_000 });
    expect(stdout).toBe('cjs-1');
  }, 30_000);
});
