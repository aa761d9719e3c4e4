// Runs Are the Types Wrong? on the package as `npm pack` makes it, packed without its lifecycle
// scripts: `attw --pack` would run `prepack`, which rebuilds dist/ under whatever reads it meanwhile.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const dir = mkdtempSync(join(tmpdir(), 'apprunner-kit-pack-'));
try {
  const packed = execFileSync('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', dir], {
    encoding: 'utf8',
  });
  const [{ filename }] = JSON.parse(packed);
  execFileSync('attw', [join(dir, filename)], { stdio: 'inherit' });
} finally {
  rmSync(dir, { recursive: true, force: true });
}
