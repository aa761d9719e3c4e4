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

  it('recognises a process that loaded node:test', () => {
    const loadedModules = ['NativeModule http', 'NativeModule test'];
    expect(detectTestRunner({ global: {}, loadedModules })).toBe('node:test');
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
