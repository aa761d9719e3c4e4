import { readFileSync } from 'node:fs';
import { ConfigurationError } from '../errors.js';
import { parseCommandLine, usage } from './command-line.js';
import { renderText } from './render-text.js';
import { exitCodeOf } from './report.js';
import { type RunCheckEnvironment, runCheck } from './run-check.js';

/** Where {@link runCli} reads and writes. */
export interface CliIo {
  readonly stdout: (text: string) => void;
  readonly stderr: (text: string) => void;
  /** @default process.cwd() */
  readonly cwd?: string;
  /** @default process.env */
  readonly env?: NodeJS.ProcessEnv;
  /** Passed to {@link runCheck} (tests). */
  readonly environment?: RunCheckEnvironment;
}

/** The package's version, from the package.json above this module (dist/ or src/cli/). */
function version(): string {
  let dir = new URL('.', import.meta.url);
  for (let i = 0; i < 4; i += 1) {
    try {
      const pkg = JSON.parse(readFileSync(new URL('package.json', dir), 'utf8')) as {
        name?: unknown;
        version?: unknown;
      };
      if (pkg.name === 'apprunner-kit' && typeof pkg.version === 'string') return pkg.version;
    } catch {
      // not here: one level up
    }
    dir = new URL('..', dir);
  }
  return 'unknown';
}

/**
 * Runs `apprunner-kit` with `argv` (the arguments after the script) and resolves to its exit code:
 * 0 when no check failed, 1 when one did (or warned, with `--strict`), 2 on a usage error or when the
 * check could not run.
 *
 * @example
 * ```ts
 * process.exitCode = await runCli(process.argv.slice(2), {
 *   stdout: (t) => process.stdout.write(t),
 *   stderr: (t) => process.stderr.write(t),
 * });
 * ```
 */
export async function runCli(argv: readonly string[], io: CliIo): Promise<number> {
  try {
    const line = parseCommandLine(argv, {
      ...(io.cwd === undefined ? {} : { cwd: io.cwd }),
      ...(io.env === undefined ? {} : { env: io.env }),
    });
    if (line.kind === 'help') {
      io.stdout(`${usage}\n`);
      return 0;
    }
    if (line.kind === 'version') {
      io.stdout(`${version()}\n`);
      return 0;
    }
    const report = await runCheck(line.options, {
      ...io.environment,
      ...(io.env === undefined ? {} : { parentEnv: io.env }),
    });
    io.stdout(line.json ? `${JSON.stringify(report, null, 2)}\n` : renderText(report));
    return exitCodeOf(report, line.strict);
  } catch (error) {
    if (error instanceof ConfigurationError) {
      io.stderr(`apprunner-kit: ${error.message}\n`);
    } else {
      io.stderr(
        `apprunner-kit: the check could not run: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
      );
    }
    return 2;
  }
}
