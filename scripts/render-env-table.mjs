// Rewrites the table of environment variables in docs/configuration.md from the schema in
// src/config/environment.ts (through the build in dist/). `npm run docs:env`;
// test/unit/config/docs.test.ts checks it is current.
import { readFileSync, writeFileSync } from 'node:fs';
import { renderEnvironmentTable } from '../dist/index.js';

const referencePath = new URL('../docs/configuration.md', import.meta.url);
const reference = readFileSync(referencePath, 'utf8');
const start = '<!-- env-table:start -->';
const end = '<!-- env-table:end -->';
const from = reference.indexOf(start);
const to = reference.indexOf(end);
if (from === -1 || to === -1) throw new Error(`docs/configuration.md lacks the ${start} … ${end} markers`);
writeFileSync(
  referencePath,
  `${reference.slice(0, from + start.length)}\n${renderEnvironmentTable()}\n${reference.slice(to)}`,
);
