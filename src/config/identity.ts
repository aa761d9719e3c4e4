import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ParsedEnvironment } from './environment.js';
import { isName } from './parse.js';

/** The service name when neither an option, the environment nor package.json names one. */
export const defaultServiceName = 'app';

/** The variables the service's identity is read from. */
export const identityVariables = [
  'SERVICE_NAME',
  'OTEL_SERVICE_NAME',
  'SERVICE_VERSION',
  'OTEL_RESOURCE_ATTRIBUTES',
  'AWS_REGION',
  'AWS_DEFAULT_REGION',
] as const;

/** Who writes the lines and spans: the fields of every log line and the service of every span. */
export interface ServiceIdentity {
  readonly service: string;
  readonly version: string | undefined;
  readonly region: string | undefined;
}

/**
 * The service's name, version and region, as the kit's config and `createLogger` both resolve them:
 * option > environment variable (`SERVICE_NAME`, then `OTEL_SERVICE_NAME`; `SERVICE_VERSION`) >
 * `service.name` or `service.version` in `OTEL_RESOURCE_ATTRIBUTES` (the spec lets only
 * `OTEL_SERVICE_NAME` override it) > `package.json` of `cwd` (read only when needed) > default.
 */
export function serviceIdentity(
  given: { readonly service?: string | undefined; readonly version?: string | undefined },
  env: Pick<ParsedEnvironment, (typeof identityVariables)[number]>,
  cwd: string,
): ServiceIdentity {
  let pkg: AppPackage | undefined;
  const app = () => (pkg ??= appPackage(cwd));
  const resource = env.OTEL_RESOURCE_ATTRIBUTES?.attributes;
  return {
    service:
      given.service ??
      env.SERVICE_NAME ??
      env.OTEL_SERVICE_NAME ??
      nameOf(resource?.['service.name'], 256) ??
      app().name ??
      defaultServiceName,
    version:
      given.version ?? env.SERVICE_VERSION ?? nameOf(resource?.['service.version'], 128) ?? app().version,
    region: env.AWS_REGION ?? env.AWS_DEFAULT_REGION,
  };
}

/** A resource attribute's value as a name, as `SERVICE_NAME` would take it; else `undefined`. */
function nameOf(value: string | undefined, maxLength: number): string | undefined {
  return isName(value, maxLength) ? value.trim() : undefined;
}

interface AppPackage {
  readonly name: string | undefined;
  readonly version: string | undefined;
}

/** `name` and `version` of the app's package.json, when there is a readable one. */
function appPackage(cwd: string): AppPackage {
  try {
    const pkg = JSON.parse(readFileSync(join(cwd, 'package.json'), 'utf8')) as {
      name?: unknown;
      version?: unknown;
    };
    const text = (value: unknown) => (typeof value === 'string' && value !== '' ? value : undefined);
    return { name: text(pkg.name), version: text(pkg.version) };
  } catch {
    return { name: undefined, version: undefined }; // no readable package.json: the documented fallbacks apply
  }
}
