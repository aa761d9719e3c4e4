// Lets the examples import 'apprunner-kit' from this checkout: links examples/node_modules/apprunner-kit
// to the repository root (the built dist/ it exports). An example copied out of the repository gets
// the package from npm instead, as its package.json says.
import { lstatSync, mkdirSync, symlinkSync } from 'node:fs';

const link = new URL('../examples/node_modules/apprunner-kit', import.meta.url);
let exists = false;
try {
  exists = lstatSync(link).isSymbolicLink();
} catch {
  exists = false;
}
if (!exists) {
  mkdirSync(new URL('../examples/node_modules/', import.meta.url), { recursive: true });
  symlinkSync('../..', link, 'dir');
}
