import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const run = promisify(execFile);
const fixture = new URL('../../fixtures/secrets-hang.mjs', import.meta.url).pathname;

describe('the secrets start-up bound', () => {
  it('keeps the process waiting for it: a provider that never answers fails the load with the kit error, not exit 13', async () => {
    const failed = await run(process.execPath, [fixture], { timeout: 10_000 }).then(
      () => undefined,
      (error: { code?: number; stdout?: string; stderr?: string }) => error,
    );
    expect(failed?.code, failed?.stderr).toBe(1);
    expect(JSON.parse(failed!.stdout!.trim())).toMatchObject({
      outcome: 'failed',
      name: 'SecretsStartupError',
    });
    expect(failed!.stderr).not.toContain('unsettled top-level await');
  });
});
