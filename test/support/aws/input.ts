import { AwsError } from './errors.js';

/** A parsed JSON request body: a plain object, else the request is rejected. */
export type RequestBody = Readonly<Record<string, unknown>>;

function validation(member: string, constraint: string, value: unknown): AwsError {
  return new AwsError(
    'ValidationException',
    `1 validation error detected: Value ${JSON.stringify(value) ?? 'null'} at '${member}' failed to satisfy constraint: ${constraint}`,
  );
}

/** AWS names members in validation messages in lowerCamelCase. */
function wireName(member: string): string {
  return member.charAt(0).toLowerCase() + member.slice(1);
}

/** A required string member. */
export function requiredString(body: RequestBody, member: string): string {
  const value = body[member];
  if (typeof value !== 'string' || value === '') {
    throw validation(wireName(member), 'Member must not be null', value);
  }
  return value;
}

/** An optional string member. */
export function optionalString(body: RequestBody, member: string): string | undefined {
  const value = body[member];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string') throw new AwsError('SerializationException', `${member} must be a string`);
  return value;
}

/** An optional boolean member, `false` when absent. */
export function flag(body: RequestBody, member: string): boolean {
  const value = body[member];
  if (value === undefined || value === null) return false;
  if (typeof value !== 'boolean') throw new AwsError('SerializationException', `${member} must be a boolean`);
  return value;
}

/** An optional integer member within [min, max]. */
export function optionalInteger(
  body: RequestBody,
  member: string,
  min: number,
  max: number,
): number | undefined {
  const value = body[member];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'number' || !Number.isInteger(value)) {
    throw new AwsError('SerializationException', `${member} must be an integer`);
  }
  if (value < min)
    throw validation(wireName(member), `Member must have value greater than or equal to ${min}`, value);
  if (value > max)
    throw validation(wireName(member), `Member must have value less than or equal to ${max}`, value);
  return value;
}

/** A required list of strings with a length within [min, max]. */
export function stringList(body: RequestBody, member: string, min: number, max: number): string[] {
  const value = body[member];
  if (!Array.isArray(value) || !value.every((item): item is string => typeof item === 'string')) {
    throw validation(wireName(member), 'Member must not be null', value);
  }
  if (value.length < min)
    throw validation(wireName(member), `Member must have length greater than or equal to ${min}`, value);
  if (value.length > max)
    throw validation(wireName(member), `Member must have length less than or equal to ${max}`, value);
  return value;
}
