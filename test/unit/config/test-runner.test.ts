import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../../src/config/config.js';
import { detectTestRunner, testRunnerNote } from '../../../src/config/test-runner.js';

const cwd = new URL('../../fixtures/service-package', import.meta.url).pathname;

describe('detectTestRunner', () => {
  it("recognises Jest's test environment by the symbol jest-util installs on its global", () => {
    const global = { [Symbol.for('jest-native-promise')]: Promise };
    expect(detectTestRunner({ global, loadedModules: [] })).toBe('Jest');
  });

  it("recognises Vitest's worker by its state on the global", () => {
    expect(detectTestRunner({ global: { __vitest_worker__: {} }, loadedModules: [] })).toBe('Vitest');
    // This file runs in one.
    expect(detectTestRunner()).toBe('Vitest');
  });

  it('recognises a process that loaded node:test under node --test, or a test file run with node', () => {
    const loadedModules = ['NativeModule http', 'NativeModule test'];
    expect(detectTestRunner({ global: {}, loadedModules, nodeTestContext: 'child-v8' })).toBe('node:test');
    expect(
      detectTestRunner({ global: {}, loadedModules, execArgv: ['--test', '--test-isolation=none'] }),
    ).toBe('node:test');
    for (const mainScript of [
      '/app/test/a.test.mjs',
      '/app/a_test.js',
      '/app/test-a.cjs',
      'C:\\app\\test.mts',
    ]) {
      expect(detectTestRunner({ global: {}, loadedModules, mainScript })).toBe('node:test');
    }
  });

  it('finds none in a production app that imports node:test (a mock helper), even in a test directory', () => {
    const loadedModules = ['NativeModule test'];
    for (const mainScript of ['/srv/app/server.mjs', '/srv/test/server.mjs', '/srv/app/contest.js']) {
      expect(detectTestRunner({ global: {}, loadedModules, mainScript, execArgv: [] })).toBe(undefined);
    }
  });

  it("recognises Jest's and Vitest's own process (globalSetup, globalTeardown) by the script it started from", () => {
    const signs = (mainScript: string) => ({ global: {}, loadedModules: [], mainScript });
    expect(detectTestRunner(signs('/p/node_modules/jest/bin/jest.js'))).toBe('Jest');
    expect(
      detectTestRunner(signs('/p/node_modules/.pnpm/jest-cli@30.5.2/node_modules/jest-cli/bin/jest.js')),
    ).toBe('Jest');
    expect(detectTestRunner(signs('C:\\p\\node_modules\\jest\\bin\\jest.js'))).toBe('Jest');
    expect(detectTestRunner(signs('/p/node_modules/vitest/vitest.mjs'))).toBe('Vitest');
    expect(detectTestRunner(signs('/p/node_modules/vitest/dist/cli.js'))).toBe('Vitest');
    expect(detectTestRunner(signs('/p/node_modules/vitest/dist/workers/forks.js'))).toBe(undefined);
    expect(detectTestRunner(signs('/p/server.mjs'))).toBe(undefined);
  });

  it("finds none in a process that only inherited a runner's variables, nor without Node's module list", () => {
    expect(detectTestRunner({ global: { process: { env: { VITEST: 'true' } } }, loadedModules: [] })).toBe(
      undefined,
    );
    expect(detectTestRunner({ global: { __vitest_worker__: undefined }, loadedModules: undefined })).toBe(
      undefined,
    );
  });
});

describe('loadConfig in a test runner process', () => {
  it('defaults shutdown.exit to false, signals to [] and idleGraceMs to 0', () => {
    const loaded = loadConfig({ env: {} }, cwd, 'Jest');
    expect(loaded.exit).toBe(false);
    expect(loaded.config.shutdown.signals).toEqual([]);
    expect(loaded.config.shutdown.idleGraceMs).toBe(0);
    expect(loaded.testRunner).toEqual({ runner: 'Jest', defaulted: ['exit', 'signals', 'idleGraceMs'] });
  });

  it('keeps the settings given, and names only the defaults it set', () => {
    const exit = (_code: number) => {};
    const loaded = loadConfig({ env: {}, shutdown: { exit, idleGraceMs: 300 } }, cwd, 'node:test');
    expect(loaded.exit).toBe(exit);
    expect(loaded.config.shutdown.idleGraceMs).toBe(300);
    expect(loaded.config.shutdown.signals).toEqual([]);
    expect(loaded.testRunner?.defaulted).toEqual(['signals']);
  });

  it('keeps the production defaults outside one', () => {
    const loaded = loadConfig({ env: {} }, cwd);
    expect(loaded.exit).toBe(undefined);
    expect(loaded.config.shutdown.signals).toEqual(['SIGTERM', 'SIGINT']);
    expect(loaded.config.shutdown.idleGraceMs).toBe(1_000);
    expect(loaded.testRunner).toBe(undefined);
  });
});

describe('testRunnerNote', () => {
  it('says which defaults the runner set and how to choose', () => {
    const note = testRunnerNote({ runner: 'Vitest', defaulted: ['exit', 'idleGraceMs'] });
    expect(note?.fields).toEqual({ testRunner: 'Vitest', shutdown: { exit: false, idleGraceMs: 0 } });
    expect(note?.message).toMatch(
      /^running in a Vitest test process: shutdown exit: false \(runtime\.shutdown\(\)/,
    );
    expect(note?.message).toContain('set shutdown.exit, shutdown.idleGraceMs to choose');
  });

  it('writes nothing when every one was set', () => {
    expect(testRunnerNote({ runner: 'Jest', defaulted: [] })).toBe(undefined);
    expect(testRunnerNote(undefined)).toBe(undefined);
  });
});
