import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { killApps, startApp } from '../../support/app-process.js';
import { get } from '../../support/http.js';
import { temporaryDirectory } from '../../support/temp-dir.js';

const fixture = new URL('../../fixtures/warnings-app.mjs', import.meta.url).pathname;

afterEach(killApps);

/** The warnings the kit logged, by message, once GET /warn answered and the app stopped. */
async function warnedWith(env: Record<string, string>, execArgv: string[] = []) {
  const app = await startApp(fixture, env, execArgv);
  expect((await get(`${app.url}/warn`)).body).toBe('warned');
  app.signal('SIGTERM');
  expect((await app.exit()).code).toBe(0);
  const logged = app.lines.filter((line) => line.warning !== undefined).map((line) => line.msg);
  return { logged, stderr: app.stderr() };
}

describe("process warnings under Node's switches for them", () => {
  it('are all logged as warn lines without one, and none reaches stderr', async () => {
    const { logged, stderr } = await warnedWith({});
    expect(logged).toEqual(['an experimental thing', 'a thing with a code', 'a deprecated thing']);
    expect(stderr).toBe('');
  });

  it.each([
    ['--no-warnings on the command line', {}, ['--no-warnings']],
    ['--no_warnings in NODE_OPTIONS', { NODE_OPTIONS: '--no_warnings' }, []],
    ['NODE_NO_WARNINGS=1', { NODE_NO_WARNINGS: '1' }, []],
  ])('are not logged under %s, as Node prints none', async (_case, env, execArgv) => {
    const { logged, stderr } = await warnedWith(env, execArgv);
    expect(logged).toEqual([]);
    expect(stderr).toBe('');
  });

  it('leave out those whose type or code a --disable-warning names', async () => {
    const { logged } = await warnedWith({ NODE_OPTIONS: '--disable-warning=ExperimentalWarning' }, [
      '--disable-warning',
      'MY_CODE',
    ]);
    expect(logged).toEqual(['a deprecated thing']);
  });

  const nodeConfig = join(temporaryDirectory('ark-warnings-'), 'node.config.json');
  writeFileSync(
    nodeConfig,
    JSON.stringify({ nodeOptions: { 'disable-warning': ['ExperimentalWarning', 'MY_CODE'] } }),
  );
  const configFlag = `--experimental-config-file=${nodeConfig}`;
  it.runIf(spawnSync(process.execPath, [configFlag, '-e', '0']).status === 0)(
    "leave out those whose type or code disable-warning names in Node's config file",
    async () => {
      const { logged } = await warnedWith({}, [configFlag]);
      expect(logged).toEqual(['a deprecated thing']);
    },
  );

  it("go to the file of --redirect-warnings, by Node's printer, which the kit leaves in place", async () => {
    const file = join(temporaryDirectory('ark-warnings-'), 'warnings.txt');
    const { logged, stderr } = await warnedWith({ NODE_OPTIONS: `--redirect-warnings=${file}` });
    expect(logged).toEqual([]);
    expect(stderr).toBe('');
    const written = readFileSync(file, 'utf8');
    for (const message of ['an experimental thing', 'a thing with a code', 'a deprecated thing']) {
      expect(written).toContain(message);
    }
  });
});

describe("process warnings under Node's config file, as the running Node line reads it", () => {
  const dir = temporaryDirectory('ark-warnings-config-');
  const messages = ['an experimental thing', 'a thing with a code', 'a deprecated thing'];
  const emitted = `process.emitWarning(${JSON.stringify(messages[0])}, 'ExperimentalWarning');
    process.emitWarning(${JSON.stringify(messages[1])}, { code: 'MY_CODE' });
    process.emitWarning(${JSON.stringify(messages[2])}, { type: 'DeprecationWarning', code: 'DEP_TEST' });`;
  let files = 0;
  /** The flag that gives this Node a config file of `nodeOptions`. */
  const configFile = (nodeOptions: Record<string, unknown>) => {
    const path = join(dir, `node-${files++}.config.json`);
    writeFileSync(path, JSON.stringify({ nodeOptions }));
    return `--experimental-config-file=${path}`;
  };
  /** The warnings Node's own printer writes to stderr under the same options and environment. */
  const nodePrints = (execArgv: string[], env: Record<string, string>) => {
    const { status, stderr } = spawnSync(process.execPath, [...execArgv, '-e', emitted], {
      env: { PATH: process.env.PATH ?? '', ...env },
      encoding: 'utf8',
    });
    expect(status).toBe(0);
    return messages.filter((message) => stderr.includes(message));
  };
  const takesConfigFile = spawnSync(process.execPath, [configFile({}), '-e', '0']).status === 0;

  it.runIf(takesConfigFile).each([
    // Node 24 and later take it as --no-warnings; Node 22 drops a false and prints them all.
    ['"warnings": false', { warnings: false }, {}],
    // Set at all, NODE_OPTIONS stands in for the file's nodeOptions, which Node then leaves out.
    [
      '"warnings": false, under NODE_OPTIONS=--max-old-space-size=256',
      { warnings: false },
      { NODE_OPTIONS: '--max-old-space-size=256' },
    ],
    [
      '"disable-warning", under an empty NODE_OPTIONS',
      { 'disable-warning': ['ExperimentalWarning', 'MY_CODE'] },
      { NODE_OPTIONS: '' },
    ],
    [
      '"disable-warning", without NODE_OPTIONS',
      { 'disable-warning': ['ExperimentalWarning', 'MY_CODE'] },
      {},
    ],
  ] as const)('are logged as Node prints them: %s', async (_case, nodeOptions, env) => {
    const execArgv = [configFile(nodeOptions)];
    const printed = nodePrints(execArgv, env);
    const { logged } = await warnedWith(env, execArgv);
    expect(logged).toEqual(printed);
  });
});
