import { resolve } from 'node:path';

/**
 * The environment that makes bench/overhead/app.mjs serve `variant` on `framework`. A variant may
 * name another build of the kit, `kit-on@path/to/dist/index.js`: the app imports that build instead
 * of this checkout's (KIT_MODULE), so that two builds are measured in one run.
 */
export function variantEnv(framework: string, variant: string): Record<string, string> {
  const [name, module] = variant.split('@') as [string, string | undefined];
  const env: Record<string, string> = { FRAMEWORK: framework, VARIANT: name };
  if (module !== undefined) env.KIT_MODULE = resolve(module);
  return env;
}
