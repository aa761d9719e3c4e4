import { readFile } from 'node:fs/promises';
import { isAbsolute, resolve } from 'node:path';
import { SecretNotFoundError, SecretTransformError } from '../../errors.js';
import { jsonErrorWithoutContent } from '../json-error.js';
import type { FetchedSecret, SecretProvider } from '../provider.js';
import type { SecretReference } from '../reference.js';

/** Parses a dotenv file: `KEY=value`, `export KEY=value`, quotes, `#` comments, blank lines. */
export function parseDotenv(text: string): Record<string, string> {
  const values: Record<string, string> = {};
  for (const rawLine of text.split(/\r?\n/)) {
    const line = rawLine.trim();
    if (line === '' || line.startsWith('#')) continue;
    const match = /^(?:export\s+)?([A-Za-z_][\w.-]*)\s*=\s*(.*)$/.exec(line);
    if (match === null) continue;
    let value = match[2]!;
    const quote = value[0];
    if ((quote === '"' || quote === "'") && value.endsWith(quote) && value.length >= 2) {
      value = value.slice(1, -1);
      if (quote === '"') value = value.replace(/\\n/g, '\n').replace(/\\"/g, '"');
    } else {
      const comment = value.indexOf(' #');
      if (comment !== -1) value = value.slice(0, comment);
      value = value.trim();
    }
    values[match[1]!] = value;
  }
  return values;
}

function selectKey(reference: SecretReference & { kind: 'file' }, text: string): string {
  const key = reference.key!;
  let values: Record<string, unknown>;
  const trimmed = text.trimStart();
  if (trimmed.startsWith('{')) {
    try {
      values = JSON.parse(text) as Record<string, unknown>;
    } catch (error) {
      throw new SecretTransformError(
        `${reference.raw}: ${reference.path} starts like JSON but does not parse.`,
        { cause: jsonErrorWithoutContent(error) },
      );
    }
  } else {
    values = parseDotenv(text);
  }
  const value = Object.hasOwn(values, key) ? values[key] : undefined; // own keys only, not "constructor"
  if (value === undefined) {
    throw new SecretNotFoundError(`${reference.raw}: ${reference.path} has no key "${key}".`, {
      reference: reference.raw,
    });
  }
  return typeof value === 'string' ? value : JSON.stringify(value);
}

/**
 * `file:/path` (the whole file, trailing newline removed) and `file:/path#key` (a key of a JSON or
 * dotenv file), for local runs and mounted secrets. A relative path is taken from `cwd`.
 */
export function fileProvider(cwd: string): SecretProvider {
  return {
    async fetch(reference: SecretReference): Promise<FetchedSecret> {
      if (reference.kind !== 'file') throw new TypeError(`fileProvider cannot fetch ${reference.raw}`);
      const path = isAbsolute(reference.path) ? reference.path : resolve(cwd, reference.path);
      let text: string;
      try {
        text = await readFile(path, 'utf8');
      } catch (error) {
        throw new SecretNotFoundError(
          `${reference.raw}: cannot read ${path} (${(error as Error).message}).`,
          {
            reference: reference.raw,
            cause: error,
          },
        );
      }
      const value = reference.key === undefined ? text.replace(/\r?\n$/, '') : selectKey(reference, text);
      return { value, sensitive: true };
    },
  };
}
