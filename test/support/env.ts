/** Sets `vars` on `process.env` (undefined deletes) and returns the function restoring the old values. */
export function applyEnv(vars: Readonly<Record<string, string | undefined>>): () => void {
  const previous = Object.fromEntries(Object.keys(vars).map((name) => [name, process.env[name]]));
  const assign = (values: Readonly<Record<string, string | undefined>>) => {
    for (const [name, value] of Object.entries(values)) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
  };
  assign(vars);
  return () => assign(previous);
}
