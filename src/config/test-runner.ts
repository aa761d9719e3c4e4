import { realpathSync } from 'node:fs';

/** A test runner whose test process the kit can run in. */
export type TestRunner = 'Jest' | 'node:test' | 'Vitest';

/** What {@link detectTestRunner} reads: the global object of the kit's realm, and the process's own signs. */
export interface TestRunnerSigns {
  readonly global: object;
  /** `process.moduleLoadList`: the built-in modules this process loaded (`'NativeModule test'`). */
  readonly loadedModules: readonly string[] | undefined;
  /** The script Node was started with (`process.argv[1]`), its symbolic links resolved. */
  readonly mainScript?: string | undefined;
  /** `process.execArgv`: Node's own options (`--test`). */
  readonly execArgv?: readonly string[] | undefined;
  /** `NODE_TEST_CONTEXT`, which `node --test` sets for the process of each test file. */
  readonly nodeTestContext?: string | undefined;
}

// The scripts a runner's own process starts from (its globalSetup and globalTeardown run there): the
// bin of jest and of jest-cli, and Vitest's bin and the CLI entry it imports.
const runnerScripts: readonly [RegExp, TestRunner][] = [
  [/\/node_modules\/(?:jest|jest-cli)\/bin\/jest\.js$/, 'Jest'],
  [/\/node_modules\/vitest\/(?:vitest\.mjs|dist\/cli\.js)$/, 'Vitest'],
];

// A file named as `node --test` finds its tests: `x.test.mjs`, `x-test.js`, `x_test.cjs`, `test-x.mjs`,
// `test.js` (TypeScript's extensions too).
const testFileName = /(?:^|[/\\])(?:test|test-[^/\\]*|[^/\\]*[._-]test)\.[cm]?[jt]s$/;

/**
 * The test runner whose test process this is, if any: Jest's test environment (its worker, or the
 * process itself run in band), Jest's or Vitest's own process (where globalSetup and globalTeardown
 * run), a process running `node:test` tests (`node --test`, or a test file run with `node`), or
 * Vitest's worker (any pool).
 *
 * Each sign is one the runner sets in the test's own process, never one in the environment alone: a
 * process the test spawns (an app started for an end-to-end test) inherits `JEST_WORKER_ID`,
 * `NODE_TEST_CONTEXT` and `VITEST`, and must still exit as in production. Jest installs
 * `Symbol.for('jest-native-promise')` on the global of every test environment (jest-util's
 * `installCommonGlobals`, Jest 22 on); Vitest keeps its worker's state on `globalThis.__vitest_worker__`
 * in every pool; the runner's own process was started from its bin. `node:test` is loaded in the
 * process that runs its tests, which Node lists in `process.moduleLoadList`; a production app can load
 * it too (a dependency's `import { mock } from 'node:test'`), so a second sign is needed: `node --test`
 * (`NODE_TEST_CONTEXT`, set for each test file's process, or `--test` in `process.execArgv`), or a main
 * script named as `node --test` finds test files.
 */
export function detectTestRunner(signs: TestRunnerSigns = currentSigns()): TestRunner | undefined {
  const global = signs.global as Record<PropertyKey, unknown>;
  if (global[Symbol.for('jest-native-promise')] !== undefined) return 'Jest';
  if (typeof global.__vitest_worker__ === 'object' && global.__vitest_worker__ !== null) return 'Vitest';
  const script = signs.mainScript?.replaceAll('\\', '/');
  if (script !== undefined) {
    for (const [pattern, runner] of runnerScripts) if (pattern.test(script)) return runner;
  }
  if (signs.loadedModules?.includes('NativeModule test') === true) {
    const underNodeTest = signs.nodeTestContext !== undefined || signs.execArgv?.includes('--test') === true;
    if (underNodeTest || (script !== undefined && testFileName.test(script))) return 'node:test';
  }
  return undefined;
}

function currentSigns(): TestRunnerSigns {
  const { moduleLoadList } = process as { moduleLoadList?: unknown };
  return {
    global: globalThis,
    loadedModules: Array.isArray(moduleLoadList) ? (moduleLoadList as string[]) : undefined,
    mainScript: realMainScript(process.argv[1]),
    execArgv: process.execArgv,
    nodeTestContext: process.env.NODE_TEST_CONTEXT,
  };
}

// `node_modules/.bin/jest` is a link to jest's bin: Node keeps the path it was given in argv.
function realMainScript(script: string | undefined): string | undefined {
  if (script === undefined) return undefined;
  try {
    return realpathSync(script);
  } catch {
    return script;
  }
}

/** The shutdown options given a default of their own in a test runner's process. */
export type TestRunnerDefaulted = 'exit' | 'signals' | 'idleGraceMs';

/** A test runner's process, and which of its defaults applied (the options not given). */
export interface TestRunnerDefaults {
  readonly runner: TestRunner;
  readonly defaulted: readonly TestRunnerDefaulted[];
}

const effects: Readonly<Record<TestRunnerDefaulted, { value: unknown; shown: string; effect: string }>> = {
  exit: {
    value: false,
    shown: 'exit: false',
    effect: 'runtime.shutdown() stops the runtime and leaves the process to the runner',
  },
  signals: { value: [], shown: 'signals: []', effect: "SIGTERM and Ctrl+C stay the runner's" },
  idleGraceMs: {
    value: 0,
    shown: 'idleGraceMs: 0',
    effect: 'an idle keep-alive socket is closed at once on shutdown',
  },
};

/** The start-up line that says which defaults a test runner's process gave, and how to choose. */
export function testRunnerNote(
  defaults: TestRunnerDefaults | undefined,
): { fields: Record<string, unknown>; message: string } | undefined {
  if (defaults === undefined || defaults.defaulted.length === 0) return undefined;
  const { runner, defaulted } = defaults;
  return {
    fields: {
      testRunner: runner,
      shutdown: Object.fromEntries(defaulted.map((name) => [name, effects[name].value])),
    },
    message: `running in a ${runner} test process: shutdown ${defaulted.map((name) => `${effects[name].shown} (${effects[name].effect})`).join(', ')} by default; set shutdown.${defaulted.join(', shutdown.')} to choose (an app a test spawns runs as in production)`,
  };
}
