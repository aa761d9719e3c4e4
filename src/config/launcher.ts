import type { ParsedEnvironment } from './environment.js';
import type { CloudPlatform } from './platform.js';

/** How long pm2 waits after its stop signal before SIGKILL when the app sets no `kill_timeout`. */
export const pm2DefaultKillTimeoutMs = 1_600;

/**
 * What `kill_timeout` should leave beyond `shutdown.timeoutMs`: the kit exits at that deadline at the
 * latest, and the process still has to end and pm2 to see it.
 */
export const killTimeoutMarginMs = 1_000;

/** What pm2 tells the app it runs, through the variables it sets. */
export interface Pm2Settings {
  /** `pm_id`: pm2's id of the process. */
  readonly id: string;
  /** `kill_timeout` in milliseconds, when set and an integer. */
  readonly killTimeoutMs: number | undefined;
  /** `kill_timeout` as set, for a warning that quotes it; `undefined` when unset. */
  readonly killTimeoutText: string | undefined;
  /** `shutdown_with_message`: pm2 stops the app with the IPC message `shutdown`, not a signal. */
  readonly shutdownWithMessage: boolean;
  /** `wait_ready`: pm2 waits for the IPC message `ready` before it counts the app online. */
  readonly waitReady: boolean;
}

/** The programs that started the app, as far as the variables they set tell. */
export interface Launcher {
  /** A package manager's script the app runs in (`npm start`, `node --run start`), if one. */
  readonly script: { readonly via: 'npm' | 'node --run'; readonly name: string } | undefined;
  /** pm2 (or pm2-runtime) runs the app, with these settings. */
  readonly pm2: Pm2Settings | undefined;
}

type LauncherVariables =
  | 'npm_lifecycle_event'
  | 'NODE_RUN_SCRIPT_NAME'
  | 'pm_id'
  | 'kill_timeout'
  | 'shutdown_with_message'
  | 'wait_ready';

/**
 * Recognises the launcher from the variables it sets in the app's environment: npm sets
 * `npm_lifecycle_event` in the scripts it runs, `node --run` sets `NODE_RUN_SCRIPT_NAME`, pm2 sets
 * `pm_id`, and its `kill_timeout`, `shutdown_with_message` and `wait_ready` when the app's settings
 * give them (pm2 7; a setting left out, or false, sets nothing).
 */
export function recogniseLauncher(env: Partial<Pick<ParsedEnvironment, LauncherVariables>>): Launcher {
  const script =
    env.npm_lifecycle_event !== undefined
      ? { via: 'npm' as const, name: env.npm_lifecycle_event }
      : env.NODE_RUN_SCRIPT_NAME !== undefined
        ? { via: 'node --run' as const, name: env.NODE_RUN_SCRIPT_NAME }
        : undefined;
  const killTimeout = env.kill_timeout;
  const pm2 =
    env.pm_id === undefined
      ? undefined
      : {
          id: env.pm_id,
          killTimeoutMs:
            killTimeout !== undefined && /^\d+$/.test(killTimeout) ? Number(killTimeout) : undefined,
          killTimeoutText: killTimeout,
          shutdownWithMessage: env.shutdown_with_message === true,
          waitReady: env.wait_ready === true,
        };
  return { script, pm2 };
}

/** A start-up warning: its fields and its message. */
export interface LauncherWarning {
  readonly fields: Readonly<Record<string, unknown>>;
  readonly message: string;
}

/** What the launcher warnings are weighed against. */
export interface LauncherContext {
  /** The AWS platform the kit recognised (see recognisePlatform), and what told it. */
  readonly platform: CloudPlatform | undefined;
  readonly platformFrom: string | undefined;
  /** `shutdown.timeoutMs`. */
  readonly shutdownTimeoutMs: number;
}

const nodeAsCommand =
  'make node itself the container\'s command: CMD ["node", "server.mjs"] in the Dockerfile, or command: node server.mjs in apprunner.yaml; an init (tini, dumb-init) around the launcher does not help, one around node is fine (see docs/shutdown.md, Launchers and process managers)';

/**
 * The start-up warnings a launcher calls for. On an AWS platform only, an npm or `node --run`
 * script: the platform's SIGTERM reaches the launcher, which does not pass it on (npm's script shell
 * ends and takes node with it; `node --run` as PID 1 ignores it until the SIGKILL), so requests in
 * flight are cut and the kit writes no line; run locally, `npm start` is normal and says nothing.
 * Anywhere, pm2 with a `kill_timeout` shorter than `shutdown.timeoutMs` plus a margin (pm2's default
 * is 1.6 s): pm2 SIGKILLs a drain that takes longer, and pm2-runtime still exits 0.
 */
export function launcherWarnings(launcher: Launcher, context: LauncherContext): LauncherWarning[] {
  const warnings: LauncherWarning[] = [];
  const { script, pm2 } = launcher;
  if (script !== undefined && context.platform !== undefined) {
    const variable = script.via === 'npm' ? 'npm_lifecycle_event' : 'NODE_RUN_SCRIPT_NAME';
    const on =
      context.platformFrom === undefined
        ? context.platform
        : `${context.platform} (from ${context.platformFrom})`;
    const how =
      script.via === 'npm'
        ? "npm's script shell ends on it and npm exits, and the kernel then kills this process"
        : "node --run ignores it as the container's main process (PID 1), until the platform's SIGKILL, and ends at once under an init";
    // npx (npm exec) sets npm_lifecycle_event to `npx`, and runs the command in the same script shell.
    const runs =
      script.via === 'node --run'
        ? 'in a node --run script'
        : script.name === 'npx'
          ? 'under npx (npm exec)'
          : 'in an npm script';
    warnings.push({
      fields: { launcher: { name: script.via, script: script.name, platform: context.platform } },
      message: `the app runs ${runs} (${variable}=${script.name}) on ${on}: the platform's SIGTERM will not reach this process (${how}), so requests in flight are cut and no shutdown runs; ${nodeAsCommand}`,
    });
  }
  if (pm2 !== undefined) {
    const killTimeoutMs = pm2.killTimeoutMs ?? pm2DefaultKillTimeoutMs;
    const advisedMs = context.shutdownTimeoutMs + killTimeoutMarginMs;
    if (pm2.killTimeoutMs === undefined || killTimeoutMs < advisedMs) {
      const set =
        pm2.killTimeoutText === undefined
          ? `no kill_timeout (pm2 then waits ${pm2DefaultKillTimeoutMs} ms)`
          : pm2.killTimeoutMs === undefined
            ? `kill_timeout=${JSON.stringify(pm2.killTimeoutText)}, which is not milliseconds (pm2 may wait ${pm2DefaultKillTimeoutMs} ms)`
            : `kill_timeout ${killTimeoutMs} ms`;
      warnings.push({
        fields: {
          launcher: {
            name: 'pm2',
            killTimeout: pm2.killTimeoutText ?? null,
            shutdownTimeoutMs: context.shutdownTimeoutMs,
            advisedKillTimeoutMs: advisedMs,
          },
        },
        message: `pm2 runs the app with ${set}, and shutdown.timeoutMs is ${context.shutdownTimeoutMs} ms: pm2 SIGKILLs a shutdown that takes longer than kill_timeout, cutting the requests in flight, and pm2-runtime still exits 0; set kill_timeout: ${advisedMs} (shutdown.timeoutMs + ${killTimeoutMarginMs}) in the ecosystem file, or lower shutdown.timeoutMs`,
      });
    }
  }
  return warnings;
}
