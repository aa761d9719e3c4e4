import { execFile } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';

const run = promisify(execFile);
const script = new URL('../../../scripts/node.sh', import.meta.url).pathname;
const stubs = mkdtempSync(join(tmpdir(), 'node-sh-'));

afterAll(() => rmSync(stubs, { recursive: true, force: true }));

/** Runs scripts/node.sh with `args` and a PATH that starts with `pathHead`; never rejects. */
async function nodeSh(args: string[], pathHead?: string) {
  const path = [pathHead, process.env.PATH].filter(Boolean).join(':');
  try {
    const { stdout, stderr } = await run('bash', [script, ...args], {
      env: { ...process.env, PATH: path, EXPECT_NODE_MAJOR: '' },
      timeout: 120_000,
    });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

describe('scripts/node.sh', () => {
  it('refuses a line below the supported floor, and a line that is not a number', async () => {
    const old = await nodeSh(['20']);
    expect(old.code).toBe(1);
    expect(old.stderr).toContain('Node 20 is below the supported floor (22)');
    const bad = await nodeSh(['exec', 'lts', '--', 'true']);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain("'lts' is not a Node.js major line");
  });

  it.each(['v20.20.2', 'v22.11.0'])(
    'ensure: runs on Node 24 when the node first on PATH is older than 22.12 (%s)',
    async (version) => {
      const stub = join(stubs, version);
      mkdirSync(stub, { recursive: true });
      writeFileSync(join(stub, 'node'), `#!/bin/sh\necho ${version}\n`);
      chmodSync(join(stub, 'node'), 0o755);
      const result = await nodeSh(
        ['ensure', '--', 'node', '-p', 'process.version + " " + process.env.EXPECT_NODE_MAJOR'],
        stub,
      );
      expect(result.code).toBe(0);
      expect(result.stdout.trim()).toMatch(/^v24\.\d+\.\d+ 24$/);
      expect(result.stderr).toContain(`this machine's node is ${version}; the kit needs 22.12 or newer`);
    },
    150_000,
  );

  it('ensure: runs the command as it is when the node first on PATH is supported', async () => {
    const result = await nodeSh(
      ['ensure', '--', 'node', '-p', 'process.execPath'],
      dirname(process.execPath),
    );
    expect(result.code).toBe(0);
    expect(result.stdout.trim()).toBe(process.execPath);
  });
});
