import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { appDirectories, prettyDestination, redactingDestination } from '../../../src/logging/destination.js';
import { RedactionRegistry } from '../../../src/logging/redaction.js';

describe('prettyDestination', () => {
  const empty = mkdtempSync(join(tmpdir(), 'no-pino-pretty-'));
  // An app with a pino-pretty of its own: a stand-in package that marks the lines it is given.
  const app = mkdtempSync(join(tmpdir(), 'app-with-pino-pretty-'));
  mkdirSync(join(app, 'node_modules', 'pino-pretty'), { recursive: true });
  writeFileSync(
    join(app, 'node_modules', 'pino-pretty', 'index.js'),
    'module.exports = (options) => ({ pretty: options, write() {} });\n',
  );
  afterAll(() => {
    rmSync(empty, { recursive: true, force: true });
    rmSync(app, { recursive: true, force: true });
  });

  it('is never used on a pipe, or when turned off', () => {
    expect(prettyDestination('auto', false, [app])).toEqual({ destination: undefined, missing: false });
    expect(prettyDestination(false, true, [app])).toEqual({ destination: undefined, missing: false });
  });

  it("is found from the app entry's directory, the working directory having none", () => {
    const found = prettyDestination('auto', true, appDirectories(join(app, 'server.mjs'), empty));
    expect(found.missing).toBe(false);
    expect(found.destination).toMatchObject({ pretty: { sync: true, colorize: true, messageKey: 'msg' } });
  });

  it('falls back to JSON when the app has no pino-pretty, missed on a terminal only', () => {
    expect(prettyDestination('auto', true, [empty])).toEqual({ destination: undefined, missing: true });
    expect(prettyDestination(true, false, [empty])).toEqual({ destination: undefined, missing: false });
  });
});

describe('appDirectories', () => {
  it("is the entry's directory, then the working directory, each once", () => {
    expect(appDirectories('/srv/app/server.mjs', '/tmp')).toEqual(['/srv/app', '/tmp']);
    expect(appDirectories('/srv/app/server.mjs', '/srv/app')).toEqual(['/srv/app']);
    // The REPL, `node -e`: no entry file.
    expect(appDirectories(undefined, '/tmp')).toEqual(['/tmp']);
  });
});

describe('redactingDestination', () => {
  it('masks each line before the target sees it, and forwards flush', () => {
    const written: string[] = [];
    let flushed = 0;
    const registry = new RedactionRegistry();
    registry.addValue('top-secret');
    const destination = redactingDestination(
      {
        write: (line: string) => written.push(line),
        flush: (cb?: () => void) => {
          flushed++;
          cb?.();
        },
      } as never,
      registry,
    );
    destination.write('{"msg":"a top-secret b"}\n');
    (destination as unknown as { flush: (cb: () => void) => void }).flush(() => {});
    expect(written).toEqual(['{"msg":"a [REDACTED] b"}\n']);
    expect(flushed).toBe(1);
  });
});
