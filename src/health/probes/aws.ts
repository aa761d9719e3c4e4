import type { HealthCheck } from '../types.js';

/** What the AWS probe needs: an AWS SDK v3 client (anything with `send(command, { abortSignal })`). */
export interface CommandSender<C> {
  send(command: C, options?: { abortSignal?: AbortSignal }): PromiseLike<unknown>;
}

/**
 * The error codes the AWS SDK itself counts as throttling (its service-error classification), as
 * services spell them across protocols.
 */
const throttlingCodes: ReadonlySet<string> = new Set([
  'BandwidthLimitExceeded',
  'EC2ThrottledException',
  'LimitExceededException',
  'PriorRequestNotComplete',
  'ProvisionedThroughputExceededException',
  'RequestLimitExceeded',
  'RequestThrottled',
  'RequestThrottledException',
  'SlowDown',
  'ThrottledException',
  'Throttling',
  'ThrottlingException',
  'TooManyRequestsException',
  'TransactionInProgressException',
]);

/** The code of a throttling error (the service answered "not now"), else `undefined`. */
function throttlingCode(error: unknown): string | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  const { name, $metadata, $retryable } = error as {
    name?: unknown;
    $metadata?: { httpStatusCode?: unknown };
    $retryable?: { throttling?: unknown };
  };
  if (typeof name === 'string' && throttlingCodes.has(name)) return name;
  if ($metadata?.httpStatusCode === 429 || $retryable?.throttling === true)
    return typeof name === 'string' ? name : 'throttled';
  return undefined;
}

/**
 * Sends `command` through an AWS SDK v3 client and passes when the service answers; reports the round
 * trip in ms. Give it a cheap read the app's role is allowed: DynamoDB `DescribeTable`, S3
 * `HeadBucket`, SQS `GetQueueAttributes`. An error fails the check with its message (a table gone,
 * access denied: the app cannot work), except throttling, which warns: the service answered, but
 * not now, and one more call from every instance would not help. The check's signal aborts the call
 * when it times out. The same command object is sent every time.
 *
 * @example
 * ```ts
 * import { DescribeTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
 * import { awsProbe } from 'apprunner-kit';
 *
 * // One attempt: the SDK's retries and their backoff would outlast the check.
 * const probeClient = new DynamoDBClient({ maxAttempts: 1 });
 * runtime.health.register('dynamodb', awsProbe(probeClient, new DescribeTableCommand({ TableName: 'notes' })), {
 *   componentType: 'datastore',
 * });
 * ```
 */
export function awsProbe<C>(client: CommandSender<NoInfer<C>>, command: C): HealthCheck {
  return async (signal) => {
    const started = performance.now();
    const elapsed = () => Math.round((performance.now() - started) * 10) / 10;
    try {
      await client.send(command, { abortSignal: signal });
    } catch (error) {
      const code = throttlingCode(error);
      if (code === undefined) throw error;
      return {
        status: 'warn',
        observedValue: elapsed(),
        observedUnit: 'ms',
        output: `throttled (${code}): the service answered, but not now`,
      };
    }
    return { status: 'pass', observedValue: elapsed(), observedUnit: 'ms' };
  };
}
