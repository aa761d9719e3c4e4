import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { freePort } from '../support/child.js';

const run = promisify(execFile);
const fixtures = new URL('../fixtures/loads/', import.meta.url).pathname;

/** Runs the fixture app with `refs` resolved and returns the URLs of every module it loaded. */
async function loadedModules(refs: string[]): Promise<string[]> {
  const dir = mkdtempSync(join(tmpdir(), 'loads-'));
  const file = join(dir, 'loads.txt');
  const closedPort = await freePort();
  try {
    await run(process.execPath, ['--import', join(fixtures, 'register.mjs'), join(fixtures, 'app.mjs')], {
      env: {
        PATH: process.env.PATH ?? '',
        LOADS_FILE: file,
        REFS: JSON.stringify(refs),
        AWS_ACCESS_KEY_ID: 'test',
        AWS_SECRET_ACCESS_KEY: 'test',
        AWS_REGION: 'us-east-1',
        AWS_EC2_METADATA_DISABLED: 'true',
        AWS_ENDPOINT_URL: `http://127.0.0.1:${closedPort}`,
      },
      timeout: 20_000,
    });
    return readFileSync(file, 'utf8').trim().split('\n');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

describe('optional heavy dependencies', () => {
  it('are not loaded by importing and running the kit without AWS references or tracing', async () => {
    const loads = await loadedModules(['env:PATH']);
    expect(loads.some((url) => url.includes('/dist/index.js'))).toBe(true);
    expect(loads.filter((url) => /@aws-sdk|@smithy|@opentelemetry|aws-xray-sdk/.test(url))).toEqual([]);
  });

  it('are loaded on first use: an ssm: reference loads @aws-sdk/client-ssm only', async () => {
    const loads = await loadedModules(['ssm:/app/key']);
    expect(loads.some((url) => url.includes('@aws-sdk/client-ssm'))).toBe(true);
    expect(loads.some((url) => url.includes('@aws-sdk/client-secrets-manager'))).toBe(false);
    expect(loads.some((url) => url.includes('@opentelemetry'))).toBe(false);
  });
});
