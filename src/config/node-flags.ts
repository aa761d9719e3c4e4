/** Node's `--unhandled-rejections` mode, as given on its command line or in `NODE_OPTIONS`. */
export type NodeRejectionMode = 'throw' | 'strict' | 'warn' | 'none' | 'warn-with-error-code';

const modes: readonly string[] = ['throw', 'strict', 'warn', 'none', 'warn-with-error-code'];

/**
 * The `--unhandled-rejections` mode this process was started with, the last one given winning (the
 * command line after `NODE_OPTIONS`, as Node reads them); `undefined` when none was given.
 */
export function nodeRejectionMode(
  execArgv: readonly string[],
  nodeOptions: string | undefined,
): NodeRejectionMode | undefined {
  let mode: NodeRejectionMode | undefined;
  const flags = [...(nodeOptions?.split(/\s+/) ?? []), ...execArgv];
  for (const [i, flag] of flags.entries()) {
    const value = flag.startsWith('--unhandled-rejections=')
      ? flag.slice('--unhandled-rejections='.length)
      : flag === '--unhandled-rejections'
        ? flags[i + 1]
        : undefined;
    if (value !== undefined && modes.includes(value)) mode = value as NodeRejectionMode;
  }
  return mode;
}
