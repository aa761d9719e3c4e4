import { afterEach, describe, expect, it } from 'vitest';
import { startRuntime, stopRuntimes } from '../../support/runtime.js';

afterEach(stopRuntimes);

const ok = (_req: unknown, res: { end(): void }) => res.end();

describe('POWERTOOLS_* variables left from a Powertools app', () => {
  it('are named in one warn line at start, each with the kit’s equivalent, and not read', async () => {
    // Arrange: the audit's app, moved from Powertools Logger with its variables left in place;
    // the cache age is kept for Powertools Parameters, whose kit equivalent the app set too.
    const { runtime, logs } = await startRuntime({
      app: ok,
      secretOptions: { ttlMs: 60_000 },
      env: {
        POWERTOOLS_SERVICE_NAME: 'notes-api',
        POWERTOOLS_LOG_LEVEL: 'DEBUG',
        POWERTOOLS_PARAMETERS_MAX_AGE: '60',
        POWERTOOLS_IDEMPOTENCY_DISABLED: 'true', // no equivalent: not the kit's to name
      },
    });

    // Assert
    const warnings = logs.lines.filter((l) => l.level === 'warn');
    expect(warnings).toEqual([
      expect.objectContaining({
        powertools: { POWERTOOLS_SERVICE_NAME: 'SERVICE_NAME', POWERTOOLS_LOG_LEVEL: 'LOG_LEVEL' },
        msg: 'POWERTOOLS_SERVICE_NAME, POWERTOOLS_LOG_LEVEL are set, and the kit does not read them (only Powertools does, where the app still uses it): use SERVICE_NAME for POWERTOOLS_SERVICE_NAME; LOG_LEVEL for POWERTOOLS_LOG_LEVEL (docs/migrating/powertools.md)',
      }),
    ]);
    expect(runtime.config.service).not.toBe('notes-api');
    expect(runtime.config.logging.level).toBe('info');
  });

  it('say nothing once the kit’s own variable is set, or with none of them set', async () => {
    const { logs } = await startRuntime({
      app: ok,
      env: { POWERTOOLS_SERVICE_NAME: 'notes-api', SERVICE_NAME: 'notes-api', POWERTOOLS_LOG_LEVEL: ' ' },
    });
    const { logs: plain } = await startRuntime({ app: ok });
    expect([...logs.lines, ...plain.lines].filter((l) => l.level === 'warn')).toEqual([]);
  });
});
