import { emfLimits } from './limits.js';

// Each check returns what would have been accepted when `value` is not, else undefined: the caller
// words the error, as an InvalidArgumentError (an API call) or a ConfigurationError (an option).

const printableAscii = /^[\x20-\x7E]+$/;
const namespacePattern = /^[A-Za-z0-9._#:/ -]+$/;

/** Names CloudWatch reads on the root node of an EMF line: no metric or dimension may take them. */
const reservedNames: ReadonlySet<string> = new Set(['_aws']);

function printable(value: unknown, maxLength: number): value is string {
  return (
    typeof value === 'string' &&
    value.length <= maxLength &&
    printableAscii.test(value) &&
    value.trim() !== '' &&
    !reservedNames.has(value)
  );
}

/** What a metric name must be, when `name` is not one. */
export function metricNameProblem(name: unknown): string | undefined {
  return printable(name, emfLimits.maxNameLength)
    ? undefined
    : `a metric name of 1 to ${emfLimits.maxNameLength} printable ASCII characters (not "_aws"), such as "OrdersPlaced"`;
}

/** What a dimension name must be, when `name` is not one. */
export function dimensionNameProblem(name: unknown): string | undefined {
  return printable(name, emfLimits.maxDimensionNameLength) && !name.startsWith(':')
    ? undefined
    : `a dimension name of 1 to ${emfLimits.maxDimensionNameLength} printable ASCII characters, not starting with ":", such as "Plan"`;
}

/** What a dimension value must be, when `value` is not one. */
export function dimensionValueProblem(value: unknown): string | undefined {
  return typeof value === 'string' &&
    value.length <= emfLimits.maxDimensionValueLength &&
    printableAscii.test(value) &&
    value.trim() !== ''
    ? undefined
    : `a dimension value of 1 to ${emfLimits.maxDimensionValueLength} printable ASCII characters`;
}

/** What a CloudWatch namespace must be, when `namespace` is not one. */
export function namespaceProblem(namespace: unknown): string | undefined {
  return typeof namespace === 'string' &&
    namespace.length <= emfLimits.maxNamespaceLength &&
    namespacePattern.test(namespace) &&
    namespace.trim() !== '' &&
    !namespace.startsWith('AWS/')
    ? undefined
    : `a namespace of 1 to ${emfLimits.maxNamespaceLength} characters from A-Z a-z 0-9 . - _ / # : and space, not starting with "AWS/" (reserved for AWS), such as "NotesApi"`;
}

/** What a metric value must be, when `value` is not one. */
export function metricValueProblem(value: unknown): string | undefined {
  if (typeof value !== 'number' || !Number.isFinite(value)) return 'a finite number';
  const magnitude = Math.abs(value);
  return magnitude === 0 || (magnitude >= emfLimits.minMagnitude && magnitude <= emfLimits.maxMagnitude)
    ? undefined
    : 'zero or a number of a magnitude from 2^-360 to 2^360 (CloudWatch rejects the rest)';
}

/**
 * `text` made into a valid dimension value, for values the kit takes from elsewhere (a route
 * pattern, a check name, the service name): characters outside printable ASCII become `?`, the
 * value is cut at 1024 characters, and an empty one becomes `(none)`.
 */
export function toDimensionValue(text: string): string {
  let value = text.replace(/[^\x20-\x7E]/g, '?');
  if (value.length > emfLimits.maxDimensionValueLength)
    value = value.slice(0, emfLimits.maxDimensionValueLength);
  return value.trim() === '' ? '(none)' : value;
}
