import { describe, expect, it } from 'vitest';
import {
  datastoreHint,
  type InstrumentationRegistry,
  loadedDatastoreClients,
  packagePathPattern,
} from '../../../src/tracing/otel/instrumentations.js';

function registry(overrides: Partial<InstrumentationRegistry> = {}): InstrumentationRegistry {
  return { preload: undefined, esmHook: false, registered: [], skipped: [], ...overrides };
}

const noop = { enable() {}, disable() {}, setTracerProvider() {} };
const everythingInstalled = () => true;

describe('which datastore clients the app loaded', () => {
  it('finds them in the module cache, under any node_modules, in the catalogue order', () => {
    const cache = Object.fromEntries(
      [
        '/srv/app/node_modules/ioredis/built/index.js',
        '/srv/app/node_modules/pg-protocol/dist/index.js',
        '/srv/app/node_modules/redis/node_modules/@redis/client/dist/index.js',
        'C:\\app\\node_modules\\pg\\lib\\index.js',
        '/srv/app/node_modules/mysql2-like/index.js',
        '/srv/app/src/pg/index.js',
      ].map((path) => [path, {}]),
    );
    expect(loadedDatastoreClients(cache)).toEqual(['pg', 'ioredis', 'redis']);
  });

  it("matches the ESM loader's file URLs of the clients' packages, and nothing beside them", () => {
    const pattern = packagePathPattern(['pg', '@redis/client']);
    expect(pattern.test('file:///srv/app/node_modules/@redis/client/dist/index.js')).toBe(true);
    expect(pattern.test('file:///srv/app/node_modules/pg/esm/index.mjs')).toBe(true);
    expect(pattern.test('file:///srv/app/node_modules/pg-cursor/index.js')).toBe(false);
    expect(pattern.test('file:///srv/app/node_modules/@redis/bloom/dist/index.js')).toBe(false);
  });
});

describe('the start-up hint for clients without spans', () => {
  it('is not given when every loaded client is instrumented', () => {
    const registered = [{ client: 'pg', instrumentation: noop }];
    expect(datastoreHint(['pg'], registry({ preload: 'esm', registered }), everythingInstalled)).toBe(
      undefined,
    );
    expect(datastoreHint([], registry(), everythingInstalled)).toBe(undefined);
  });

  it('without the preload, says how to start it and which instrumentation to install', () => {
    const hint = datastoreHint(['pg', 'redis'], registry(), (name) => name.endsWith('-pg'));
    expect(hint).toEqual({
      level: 'info',
      fields: {
        uninstrumented: ['pg', 'redis'],
        preload: undefined,
        install: ['@opentelemetry/instrumentation-redis'],
      },
      message:
        'pg, redis loaded without query spans: start the app with `node --import apprunner-kit/register` (ESM) or `node --require apprunner-kit/register` (CommonJS); npm install @opentelemetry/instrumentation-redis',
    });
  });

  it('after a preload that found no instrumentation, names the package to install', () => {
    const skipped = [{ client: 'mysql2', reason: 'instrumentation not installed' as const }];
    const hint = datastoreHint(['mysql2'], registry({ preload: 'cjs', skipped }), () => false);
    expect(hint?.message).toBe(
      'mysql2 loaded without query spans: apprunner-kit/register found no instrumentation for them; npm install @opentelemetry/instrumentation-mysql2',
    );
  });

  it('warns, with the cause, when the preload failed on a client', () => {
    const skipped = [{ client: 'ioredis', reason: 'failed' as const, detail: 'boom' }];
    const hint = datastoreHint(['ioredis'], registry({ preload: 'esm', skipped }), everythingInstalled);
    expect(hint).toMatchObject({ level: 'warn', fields: { failed: ['ioredis: boom'] } });
  });
});
