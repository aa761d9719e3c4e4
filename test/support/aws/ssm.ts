import { createHash } from 'node:crypto';
import { AwsError } from './errors.js';
import {
  flag,
  optionalInteger,
  optionalString,
  type RequestBody,
  requiredString,
  stringList,
} from './input.js';

/** The three SSM parameter types. */
export type ParameterType = 'String' | 'StringList' | 'SecureString';

/** Options of {@link ParameterStore.put}. */
export interface PutParameterOptions {
  /** @default 'String' */
  readonly type?: ParameterType;
}

/** What {@link ParameterStore.put} returns. */
export interface ParameterVersionInfo {
  readonly name: string;
  readonly arn: string;
  readonly version: number;
}

interface ParameterVersion {
  readonly version: number;
  readonly type: ParameterType;
  readonly value: string;
  readonly modifiedAt: Date;
}

/** Page size of GetParametersByPath when MaxResults is absent, and its maximum. */
const MAX_PAGE = 10;

/**
 * A SecureString read without WithDecryption answers ciphertext. Ours is opaque and stable, and
 * never contains the plaintext, so a test can tell that decryption was (not) asked for.
 */
function ciphertext(name: string, version: number, value: string): string {
  const digest = createHash('sha256').update(`${name}\0${version}\0${value}`).digest('base64');
  return `AQICAHkms${digest}`;
}

/** The parameters of the AWS endpoint stand-in, and its SSM Parameter Store operations. */
export class ParameterStore {
  readonly #parameters = new Map<string, ParameterVersion[]>();
  readonly #arnPrefix: string;

  constructor(region: string, accountId: string) {
    this.#arnPrefix = `arn:aws:ssm:${region}:${accountId}:parameter`;
  }

  /** Creates a parameter or adds a version to it (as PutParameter with Overwrite). */
  put(name: string, value: string, options: PutParameterOptions = {}): ParameterVersionInfo {
    const versions = this.#parameters.get(name) ?? [];
    const version = (versions.at(-1)?.version ?? 0) + 1;
    versions.push({ version, type: options.type ?? 'String', value, modifiedAt: new Date() });
    this.#parameters.set(name, versions);
    return { name, arn: this.#arn(name), version };
  }

  /** Deletes a parameter and its history. */
  remove(name: string): void {
    this.#parameters.delete(name);
  }

  /** GetParameter: by name, ARN or `name:version`; SecureString decrypted only WithDecryption. */
  getParameter(body: RequestBody): Record<string, unknown> {
    const requested = requiredString(body, 'Name');
    const found = this.#lookup(requested);
    if (found === undefined) throw new AwsError('ParameterNotFound', `Parameter ${requested} not found.`);
    if (found.version === undefined) {
      throw new AwsError('ParameterVersionNotFound', `Version ${found.selector} of ${found.name} not found.`);
    }
    return {
      Parameter: this.#render(found.name, found.version, flag(body, 'WithDecryption'), found.selector),
    };
  }

  /** GetParameters: 1–10 names; unknown ones are listed in InvalidParameters. */
  getParameters(body: RequestBody): Record<string, unknown> {
    const names = stringList(body, 'Names', 1, 10);
    const decrypt = flag(body, 'WithDecryption');
    const parameters: Record<string, unknown>[] = [];
    const invalid: string[] = [];
    for (const requested of new Set(names)) {
      const found = this.#lookup(requested);
      if (found?.version === undefined) invalid.push(requested);
      else parameters.push(this.#render(found.name, found.version, decrypt, found.selector));
    }
    return { Parameters: parameters, InvalidParameters: invalid };
  }

  /** GetParametersByPath: sorted by name, one level unless Recursive, MaxResults ≤ 10 per page. */
  getParametersByPath(body: RequestBody): Record<string, unknown> {
    const path = requiredString(body, 'Path');
    if (!path.startsWith('/')) {
      throw new AwsError(
        'ValidationException',
        `The parameter path ${path} must begin with a forward slash "/".`,
      );
    }
    if (body.ParameterFilters !== undefined) {
      throw new AwsError('ValidationException', 'ParameterFilters are not supported by the test stand-in.');
    }
    const recursive = flag(body, 'Recursive');
    const decrypt = flag(body, 'WithDecryption');
    const pageSize = optionalInteger(body, 'MaxResults', 1, MAX_PAGE) ?? MAX_PAGE;
    const prefix = path.endsWith('/') ? path : `${path}/`;
    const token = optionalString(body, 'NextToken');
    const after = token === undefined ? undefined : decodeToken(token, prefix, recursive);

    const matching = [...this.#parameters.keys()]
      .filter((name) => {
        if (!name.startsWith(prefix) || name.length === prefix.length) return false;
        return recursive || !name.slice(prefix.length).includes('/');
      })
      .sort()
      .filter((name) => after === undefined || name > after);
    const page = matching.slice(0, pageSize);
    const more = matching.length > page.length;
    return {
      Parameters: page.map((name) => this.#render(name, this.#parameters.get(name)!.at(-1)!, decrypt)),
      ...(more && { NextToken: encodeToken(prefix, recursive, page.at(-1)!) }),
    };
  }

  #render(
    name: string,
    version: ParameterVersion,
    decrypt: boolean,
    selector?: string,
  ): Record<string, unknown> {
    const hidden = version.type === 'SecureString' && !decrypt;
    return {
      Name: name,
      Type: version.type,
      Value: hidden ? ciphertext(name, version.version, version.value) : version.value,
      Version: version.version,
      ...(selector !== undefined && { Selector: `:${selector}` }),
      LastModifiedDate: version.modifiedAt.getTime() / 1000,
      ARN: this.#arn(name),
      DataType: 'text',
    };
  }

  /** Resolves `name`, `name:version` and their ARN forms; `version` is undefined for a missing version. */
  #lookup(
    requested: string,
  ): { name: string; version: ParameterVersion | undefined; selector: string | undefined } | undefined {
    let reference = requested;
    if (reference.startsWith(`${this.#arnPrefix}/`)) {
      reference = reference.slice(this.#arnPrefix.length);
      // `parameter/name` for a name without a leading slash, `parameter/path/name` for one with it.
      if (!this.#parameters.has(reference.split(':')[0]!)) reference = reference.slice(1);
    }
    const colon = reference.indexOf(':');
    const name = colon === -1 ? reference : reference.slice(0, colon);
    const selector = colon === -1 ? undefined : reference.slice(colon + 1);
    const versions = this.#parameters.get(name);
    if (versions === undefined) return undefined;
    if (selector === undefined) return { name, version: versions.at(-1), selector };
    const number = /^\d+$/.test(selector) ? Number(selector) : Number.NaN;
    return { name, version: versions.find((v) => v.version === number), selector };
  }

  #arn(name: string): string {
    return `${this.#arnPrefix}${name.startsWith('/') ? '' : '/'}${name}`;
  }
}

function encodeToken(prefix: string, recursive: boolean, after: string): string {
  return Buffer.from(JSON.stringify({ prefix, recursive, after })).toString('base64url');
}

function decodeToken(token: string, prefix: string, recursive: boolean): string {
  try {
    const decoded: unknown = JSON.parse(Buffer.from(token, 'base64url').toString('utf8'));
    if (
      typeof decoded === 'object' &&
      decoded !== null &&
      'after' in decoded &&
      typeof decoded.after === 'string' &&
      'prefix' in decoded &&
      decoded.prefix === prefix &&
      'recursive' in decoded &&
      decoded.recursive === recursive
    ) {
      return decoded.after;
    }
  } catch {
    // falls through to the AWS error
  }
  throw new AwsError('InvalidNextToken', 'The specified token is not valid.');
}
