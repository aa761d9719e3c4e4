import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';

/** Node's `--unhandled-rejections` mode, as given on its command line, in `NODE_OPTIONS` or its config file. */
export type NodeRejectionMode = 'throw' | 'strict' | 'warn' | 'none' | 'warn-with-error-code';

const modes: readonly string[] = ['throw', 'strict', 'warn', 'none', 'warn-with-error-code'];

/** The options read here that take a value, which Node accepts after a space as after `=`. */
const valued = new Set([
  '--unhandled-rejections',
  '--disable-warning',
  '--redirect-warnings',
  // Node 22's; Node 24 and later take a value after `=` only, and write the flag so in execArgv.
  '--experimental-config-file',
]);

/**
 * Node's options as this process was given them, in the order Node reads them (its config file's
 * `configFileFlags`, `NODE_OPTIONS`, then the command line, which wins), each as `--name` or
 * `--name=value`, its name spelt with dashes as Node accepts underscores too (`--no_warnings`).
 */
export function nodeFlags(
  execArgv: readonly string[],
  nodeOptions: string | undefined,
  configFileFlags: readonly string[] = [],
): readonly string[] {
  const tokens = [...configFileFlags, ...splitNodeOptions(nodeOptions ?? ''), ...execArgv];
  const flags: string[] = [];
  for (let i = 0; i < tokens.length; i++) {
    const token = tokens[i]!;
    if (!token.startsWith('--')) continue;
    const equals = token.indexOf('=');
    const name = (equals === -1 ? token : token.slice(0, equals)).replaceAll('_', '-');
    if (equals !== -1) flags.push(`${name}${token.slice(equals)}`);
    else if (valued.has(name) && i + 1 < tokens.length) flags.push(`${name}=${tokens[++i]}`);
    else flags.push(name);
  }
  return flags;
}

/** Node's options as this process was given them, its config file's among them. */
export interface NodeOptionsGiven {
  /** As {@link nodeFlags} reads them. */
  readonly flags: readonly string[];
  /** The config file the command line names, and why it could not be read (`error`), if it could not. */
  readonly configFile: { readonly path: string; readonly error: unknown } | undefined;
}

/** The running Node's major version: its config file's reading differs between lines. */
const runningMajor = Number.parseInt(process.versions.node, 10);

/**
 * Node's options from its command line, `NODE_OPTIONS` and the config file the command line names
 * (`--config-file=<path>`, `--experimental-config-file=<path>`, `--experimental-default-config-file`
 * for `node.config.json`), whose `nodeOptions` come below the command line, as Node ranks them. As
 * Node reads them, line by line (measured on 22.23, 24.22 and 26.12; Node 23, not measured, is read
 * as 22):
 * - the file's `nodeOptions` stand in for `NODE_OPTIONS`: where that variable is set at all (even
 *   empty), Node leaves them out, and so does the kit, which then does not read the file;
 * - Node 24 and later read the last of the three flags given; Node 22 the first
 *   `--experimental-config-file`, and `node.config.json` only without one;
 * - Node 24 and later take `false` as `--no-<name>` (`"warnings": false` is `--no-warnings`); Node 22
 *   drops a `false` (it prints warnings under `"warnings": false`), and takes `true` as `--<name>`.
 *
 * Read once, at start: a file that cannot be read or parsed (outside what `--permission` lets the
 * app read) is left out, and says why in `configFile`. `nodeOptions` is the variable as set, an empty
 * value kept; `major`, the Node line to read as (the running one by default).
 */
export function readNodeOptions(
  execArgv: readonly string[],
  nodeOptions: string | undefined,
  cwd = process.cwd(),
  major = runningMajor,
): NodeOptionsGiven {
  const path = nodeOptions === undefined ? configFilePath(execArgv, major) : undefined;
  if (path === undefined) return { flags: nodeFlags(execArgv, nodeOptions), configFile: undefined };
  try {
    const fromFile = configFileFlags(JSON.parse(readFileSync(resolve(cwd, path), 'utf8')), major);
    return { flags: nodeFlags(execArgv, nodeOptions, fromFile), configFile: undefined };
  } catch (error) {
    return { flags: nodeFlags(execArgv, nodeOptions), configFile: { path, error } };
  }
}

/** The config file the command line names, as the Node line `major` picks it among several. */
function configFilePath(execArgv: readonly string[], major: number): string | undefined {
  let named: string | undefined;
  let byDefault = false;
  for (const flag of nodeFlags(execArgv, undefined)) {
    let path: string | undefined;
    if (flag === '--experimental-default-config-file') path = 'node.config.json';
    else if (flag.startsWith('--config-file=')) path = flag.slice('--config-file='.length);
    else if (flag.startsWith('--experimental-config-file='))
      path = flag.slice('--experimental-config-file='.length);
    if (path === undefined) continue;
    if (major >= 24) named = path;
    else if (flag === '--experimental-default-config-file') byDefault = true;
    else named ??= path;
  }
  return named ?? (byDefault ? 'node.config.json' : undefined);
}

/**
 * A config file's `nodeOptions` as flags: `"name": value` is `--name=value`, `true` `--name`, `false`
 * `--no-name` (nothing on Node 22, which drops it).
 */
function configFileFlags(file: unknown, major: number): string[] {
  const options = (file as { nodeOptions?: unknown } | null)?.nodeOptions;
  if (typeof options !== 'object' || options === null) return [];
  const flags: string[] = [];
  for (const [name, value] of Object.entries(options)) {
    for (const one of Array.isArray(value) ? value : [value]) {
      if (one === true) flags.push(`--${name}`);
      else if (one === false) {
        if (major >= 24) flags.push(`--no-${name}`);
      } else if (typeof one === 'string' || typeof one === 'number') flags.push(`--${name}=${one}`);
    }
  }
  return flags;
}

/** `NODE_OPTIONS` split as Node splits it: on white space, outside double quotes (`\` escapes in them). */
function splitNodeOptions(options: string): string[] {
  const tokens: string[] = [];
  let token: string | undefined;
  let quoted = false;
  for (let i = 0; i < options.length; i++) {
    const char = options[i]!;
    if (quoted && char === '\\' && i + 1 < options.length) token = (token ?? '') + options[++i];
    else if (char === '"') {
      quoted = !quoted;
      token ??= '';
    } else if (!quoted && /\s/.test(char)) {
      if (token !== undefined) tokens.push(token);
      token = undefined;
    } else token = (token ?? '') + char;
  }
  if (token !== undefined) tokens.push(token);
  return tokens;
}

/** The values given to `name` (`--disable-warning`), in order. */
function valuesOf(flags: readonly string[], name: string): string[] {
  const prefix = `${name}=`;
  return flags.filter((flag) => flag.startsWith(prefix)).map((flag) => flag.slice(prefix.length));
}

/**
 * The `--unhandled-rejections` mode of {@link nodeFlags}, the last one given winning;
 * `undefined` when none was given.
 */
export function nodeRejectionMode(flags: readonly string[]): NodeRejectionMode | undefined {
  return valuesOf(flags, '--unhandled-rejections').findLast((value) => modes.includes(value)) as
    | NodeRejectionMode
    | undefined;
}

/** Node's switches for its printing of process warnings, which the kit's `warn` lines replace. */
export interface NodeWarningSwitches {
  /** `--no-warnings` (the last of it and `--warnings`) or `NODE_NO_WARNINGS=1`: none is printed. */
  readonly silenced: boolean;
  /** `--redirect-warnings=<file>`: Node writes them to that file instead of stderr. */
  readonly redirectedTo: string | undefined;
  /** The warning types and codes of each `--disable-warning`: these are not printed. */
  readonly disabled: ReadonlySet<string>;
}

/** Node's switches for process warnings in {@link nodeFlags} and `NODE_NO_WARNINGS`. */
export function nodeWarningSwitches(
  flags: readonly string[],
  noWarnings: string | undefined,
): NodeWarningSwitches {
  const last = flags.findLast((flag) => flag === '--warnings' || flag === '--no-warnings');
  return {
    // Node reads the variable only when the flag leaves warnings on: `--warnings` does not undo it.
    silenced: last === '--no-warnings' || noWarnings === '1',
    redirectedTo: valuesOf(flags, '--redirect-warnings').at(-1) || undefined,
    disabled: new Set(valuesOf(flags, '--disable-warning')),
  };
}
