/** A test runner whose test process the kit can run in. */
export type TestRunner = 'Jest' | 'node:test' | 'Vitest';

/** What {@link detectTestRunner} reads: the global object of the kit's realm, and Node's loaded modules. */
export interface TestRunnerSigns {
  readonly global: object;
  /** `process.moduleLoadList`: the built-in modules this process loaded (`'NativeModule test'`). */
  readonly loadedModules: readonly string[] | undefined;
}

/**
 * The test runner whose test process this is, if any: Jest's test environment (its worker, or the
 * process itself run in band), a process running `node:test` tests (`node --test`, or a test file
 * run with `node`), or Vitest's worker (any pool).
 *
 * Each sign is one the runner sets in the test's own process, never in the environment: a process
 * the test spawns (an app started for an end-to-end test) inherits `JEST_WORKER_ID`,
 * `NODE_TEST_CONTEXT` and `VITEST`, and must still exit as in production. Jest installs
 * `Symbol.for('jest-native-promise')` on the global of every test environment (jest-util's
 * `installCommonGlobals`, Jest 22 on); Vitest keeps its worker's state on `globalThis.__vitest_worker__`
 * in every pool; `node:test` is loaded in the process that runs its tests, which Node lists in
 * `process.moduleLoadList`.
 */
export function detectTestRunner(signs: TestRunnerSigns = currentSigns()): TestRunner | undefined {
  const global = signs.global as Record<PropertyKey, unknown>;
  if (global[Symbol.for('jest-native-promise')] !== undefined) return 'Jest';
  if (typeof global.__vitest_worker__ === 'object' && global.__vitest_worker__ !== null) return 'Vitest';
  if (signs.loadedModules?.includes('NativeModule test') === true) return 'node:test';
  return undefined;
}

function currentSigns(): TestRunnerSigns {
  const { moduleLoadList } = process as { moduleLoadList?: unknown };
  return {
    global: globalThis,
    loadedModules: Array.isArray(moduleLoadList) ? (moduleLoadList as string[]) : undefined,
  };
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
