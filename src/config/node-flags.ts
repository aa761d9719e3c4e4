/** Node's `--unhandled-rejections` mode, as given on its command line or in `NODE_OPTIONS`. */
export type NodeRejectionMode = 'throw' | 'strict' | 'warn' | 'none' | 'warn-with-error-code';

const modes: readonly string[] = ['throw', 'strict', 'warn', 'none', 'warn-with-error-code'];

/** The options read here that take a value, which Node accepts after a space as after `=`. */
const valued = new Set(['--unhandled-rejections', '--disable-warning', '--redirect-warnings']);

/**
 * Node's options as this process was given them, in the order Node reads them (`NODE_OPTIONS`, then
 * the command line, which wins), each as `--name` or `--name=value`, its name spelt with dashes as
 * Node accepts underscores too (`--no_warnings`).
 */
export function nodeFlags(execArgv: readonly string[], nodeOptions: string | undefined): readonly string[] {
  const tokens = [...splitNodeOptions(nodeOptions ?? ''), ...execArgv];
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
