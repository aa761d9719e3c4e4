import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { environmentSchema, renderEnvironmentTable } from '../../../src/config/environment.js';

const readme = readFileSync(new URL('../../../README.md', import.meta.url), 'utf8');

describe('README environment table', () => {
  it('is the table rendered from the schema (run `npm run docs:env` after changing it)', () => {
    const start = readme.indexOf('<!-- env-table:start -->');
    const end = readme.indexOf('<!-- env-table:end -->');
    expect(start).toBeGreaterThan(-1);
    expect(end).toBeGreaterThan(start);
    const documented = readme.slice(start + '<!-- env-table:start -->'.length, end).trim();
    expect(documented).toBe(renderEnvironmentTable());
  });

  it('documents every variable the config parser reads', () => {
    for (const name of Object.keys(environmentSchema)) expect(readme).toContain(`| \`${name}\` |`);
  });
});
