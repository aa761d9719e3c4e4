// Logs on a terminal: pino-pretty is looked for beside the app's entry file, then in the working
// directory, and its absence is said once. A real terminal: the app runs under `script`, which gives
// it a pseudo-terminal for stdout.
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

const kit = new URL('../../../dist/index.js', import.meta.url).href;
const root = mkdtempSync(join(tmpdir(), 'ark-pretty-'));
const elsewhere = join(root, 'elsewhere'); // the working directory: no node_modules
const withPretty = join(root, 'app-with-pretty');
const withoutPretty = join(root, 'app-without-pretty');
for (const directory of [elsewhere, withPretty, withoutPretty]) mkdirSync(directory);
// Two loggers, as an app with its own createLogger() beside the runtime's has.
const server = `import { createLogger } from ${JSON.stringify(kit)};\ncreateLogger().info('first');\ncreateLogger().info('second');\n`;
writeFileSync(join(withPretty, 'server.mjs'), server);
writeFileSync(join(withoutPretty, 'server.mjs'), server);
// A stand-in pino-pretty that marks each line it writes.
mkdirSync(join(withPretty, 'node_modules', 'pino-pretty'), { recursive: true });
writeFileSync(
  join(withPretty, 'node_modules', 'pino-pretty', 'index.js'),
  "module.exports = () => ({ write(line) { process.stdout.write('PRETTY ' + line); } });\n",
);

afterAll(() => rmSync(root, { recursive: true, force: true }));

/** Runs `node <script>` from `elsewhere`, its stdout a terminal when `terminal`; its output. */
function run(script: string, terminal: boolean): Promise<string> {
  const [command, args] = terminal
    ? ['script', ['-qec', `${process.execPath} ${script}`, '/dev/null']]
    : [process.execPath, [script]];
  return new Promise((resolve, reject) =>
    execFile(
      command as string,
      args as string[],
      { cwd: elsewhere, env: { PATH: process.env.PATH ?? '', SHELL: '/bin/sh' }, timeout: 10_000 },
      (error, stdout) => (error === null ? resolve(stdout) : reject(error)),
    ),
  );
}

describe('logs on a terminal', () => {
  it("are pretty with the pino-pretty installed beside the app's entry, started from elsewhere", async () => {
    const output = await run(join(withPretty, 'server.mjs'), true);
    expect(output.match(/^PRETTY \{.*"msg":"(first|second)"/gm)).toHaveLength(2);
    expect(output).not.toContain('npm i -D pino-pretty');
  });

  it('are JSON without pino-pretty, with one line that says how to have them readable', async () => {
    const output = await run(join(withoutPretty, 'server.mjs'), true);
    const lines = output
      .trim()
      .split(/\r?\n/)
      .map((line) => JSON.parse(line) as { msg: string });
    expect(lines.map((line) => line.msg)).toEqual([
      expect.stringContaining('npm i -D pino-pretty gives readable lines'),
      'first',
      'second',
    ]);
  });

  it('say nothing of pino-pretty on a pipe', async () => {
    const output = await run(join(withoutPretty, 'server.mjs'), false);
    expect(output).not.toContain('pino-pretty');
    expect(output.trim().split('\n')).toHaveLength(2);
  });
});
