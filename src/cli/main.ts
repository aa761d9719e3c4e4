/**
 * The `apprunner-kit` executable (built to dist/cli.js, with its `#!/usr/bin/env node` line added by
 * tsup's banner). Everything testable lives in {@link runCli}; this file only wires the process.
 *
 * @packageDocumentation
 */
import { killAllAppGroups } from './app-process.js';
import { runCli } from './run-cli.js';

let reported = false;

// The app runs in its own process group, out of reach of a Ctrl-C on this one: kill it on the way out.
process.once('exit', killAllAppGroups);
for (const [signal, code] of [
  ['SIGINT', 130],
  ['SIGTERM', 143],
  ['SIGHUP', 129],
] as const) {
  process.once(signal, () => {
    killAllAppGroups();
    process.stderr.write(`apprunner-kit: interrupted by ${signal}; the app was killed\n`);
    process.exit(code);
  });
}
// Every wait of the check is bounded and keeps the process alive; should one ever not, an early end
// must not read as a pass.
process.once('beforeExit', () => {
  if (reported) return;
  process.stderr.write('apprunner-kit: internal error: the check ended before its report\n');
  process.exitCode = 2;
});

process.exitCode = await runCli(process.argv.slice(2), {
  stdout: (text) => process.stdout.write(text),
  stderr: (text) => process.stderr.write(text),
});
reported = true;
