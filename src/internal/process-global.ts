/**
 * Returns the one value stored under `apprunner-kit.<name>` for the whole process, creating it on
 * first use.
 *
 * The kit ships an ESM and a CJS build, and an app (or its dependencies) may load both, or two
 * installed copies. State that must exist once per process — the request context store, the signal
 * handlers — is therefore keyed on `Symbol.for`, which every realm-local module copy resolves to the
 * same symbol. Bump `name`'s suffix when the shape of the stored value changes incompatibly.
 */
export function processGlobal<T>(name: string, create: () => T): T {
  const key = Symbol.for(`apprunner-kit.${name}`);
  const store = globalThis as unknown as Record<symbol, T | undefined>;
  let value = store[key];
  if (value === undefined) {
    value = create();
    store[key] = value;
  }
  return value;
}
