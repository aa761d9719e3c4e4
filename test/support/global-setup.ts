import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { startSharedServices } from './services/index.js';

const root = new URL('../..', import.meta.url).pathname;

function newestSource(dir: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestSource(path) : statSync(path).mtimeMs);
  }
  return newest;
}

/**
 * Integration tests load the built package (dist/), as users do. `npm test` builds first; when
 * vitest is run alone, rebuild if dist/ is missing or older than src/.
 * Links examples/node_modules/apprunner-kit to this checkout, for the tests that run the examples.
 * Also starts the shared PostgreSQL and Redis (TEST_POSTGRES_URL, TEST_REDIS_URL) while it builds,
 * and returns the teardown that stops them.
 */
export default async function setup(): Promise<() => Promise<void>> {
  const services = startSharedServices();
  try {
    const built = join(root, 'dist', 'index.js');
    if (!existsSync(built) || statSync(built).mtimeMs < newestSource(join(root, 'src'))) {
      execFileSync('npx', ['tsup', '--silent'], { cwd: root, stdio: 'inherit' });
    }
    // The examples import 'apprunner-kit' from this checkout, as `npm run example` sets it up.
    execFileSync(process.execPath, [join(root, 'scripts', 'link-examples.mjs')], {
      cwd: root,
      stdio: 'inherit',
    });
  } catch (error) {
    // A failed setup gets no teardown: stop the shared services here, or they outlive the run.
    await (await services)();
    throw error;
  }
  return await services;
}
