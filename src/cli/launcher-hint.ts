import { win32 } from 'node:path';

/** A launcher the checked command starts the app under, which stands between SIGTERM and node. */
export type CheckedLauncher = 'npm' | 'node --run' | 'pm2' | 'sh -c';

const nodeAsCommand =
  'run node itself as the command (CMD ["node", "server.mjs"]; command: node server.mjs in apprunner.yaml)';

const hints: Readonly<Record<CheckedLauncher, string>> = {
  npm: `npm does not pass SIGTERM on to the server: its script shell (dash on Debian images) ends on it, npm exits, and node dies with them; ${nodeAsCommand}: an init (tini, dumb-init) around npm does not help`,
  'node --run': `node --run does not pass SIGTERM on to the server: it ends at once, and as a container's main process (PID 1) it ignores SIGTERM until the SIGKILL; ${nodeAsCommand}`,
  pm2: "pm2 stops the app with SIGINT, SIGKILLs it after kill_timeout (1600 ms unless set) and still exits 0: set kill_timeout above shutdown.timeoutMs (by 1000 ms) in the ecosystem file; with shutdown_with_message the app must drain on pm2's 'shutdown' message (bootstrapAppRunner does)",
  'sh -c': `sh -c does not pass SIGTERM on to the server (dash runs node as its child, not in its place): write exec before node (sh -c "exec node server.mjs"), or ${nodeAsCommand}`,
};

/** Options of node's own that take a value as the next argument (`-r ./preload.js`). */
const nodeValueOptions = new Set([
  '-r',
  '--require',
  '--import',
  '--loader',
  '--experimental-loader',
  '-C',
  '--conditions',
  '--env-file',
  '--env-file-if-exists',
  '--title',
]);

/** The program's name as a command line gives it: its file name, without Windows' `.cmd` or `.exe`. */
function programName(program: string): string {
  return win32.basename(program).replace(/\.(cmd|exe)$/i, '');
}

/** The launcher `command` runs the app under, when it is one the check knows. */
export function launcherOf(command: readonly string[]): CheckedLauncher | undefined {
  const [program, ...args] = command;
  if (program === undefined) return undefined;
  const name = programName(program);
  if (name === 'npm' || name === 'npx') return 'npm';
  if (name === 'pm2' || name === 'pm2-runtime' || name === 'pm2-docker') return 'pm2';
  // `node --run start`: --run among node's own options, before a script.
  if (/^node(\d+)?$/.test(name)) {
    for (let i = 0; i < args.length; i++) {
      const arg = args[i]!;
      if (arg === '--run' || arg.startsWith('--run=')) return 'node --run';
      if (!arg.startsWith('-')) return undefined; // the script: what follows is its own
      if (nodeValueOptions.has(arg)) i++;
    }
    return undefined;
  }
  const flag = args.findIndex((arg) => /^-[a-z]*c[a-z]*$/.test(arg));
  if (/^(sh|bash|dash|ash)$/.test(name) && flag !== -1) {
    // `sh -c "exec node server.mjs"`: the shell gives its place to node, which gets SIGTERM.
    return /^\s*exec\s/.test(args[flag + 1] ?? '') ? undefined : 'sh -c';
  }
  return undefined;
}

/**
 * What keeps SIGTERM from the server under `command`'s launcher, and the fix; `undefined` when it
 * runs under none the check knows.
 */
export function launcherHint(command: readonly string[]): string | undefined {
  const launcher = launcherOf(command);
  return launcher === undefined ? undefined : hints[launcher];
}
