// Rewrites the README's table of environment variables from the schema in src/config/environment.ts
// (through the build in dist/). `npm run docs:env`; test/unit/config/docs.test.ts checks it is current.
import { readFileSync, writeFileSync } from 'node:fs';
import { renderEnvironmentTable } from '../dist/index.js';

const readmePath = new URL('../README.md', import.meta.url);
const readme = readFileSync(readmePath, 'utf8');
const start = '<!-- env-table:start -->';
const end = '<!-- env-table:end -->';
const from = readme.indexOf(start);
const to = readme.indexOf(end);
if (from === -1 || to === -1) throw new Error(`README.md lacks the ${start} … ${end} markers`);
writeFileSync(
  readmePath,
  `${readme.slice(0, from + start.length)}\n${renderEnvironmentTable()}\n${readme.slice(to)}`,
);
