import type { Attributes } from '@opentelemetry/api';

// The resource an AWS call reaches, under the names of the semantic conventions for AWS SDK spans
// (`aws.dynamodb.table_names`, `aws.sqs.queue.url`…), read from the command's input and output the
// way the X-Ray SDK's whitelist and the contrib instrumentation read them. The collector's X-Ray
// exporter turns the table names into the subsegment's `table_name`, which the service map shows.

type Fields = Record<string, unknown>;

function fieldsOf(value: unknown): Fields | undefined {
  return typeof value === 'object' && value !== null ? (value as Fields) : undefined;
}

function text(value: unknown): string | undefined {
  return typeof value === 'string' && value !== '' ? value : undefined;
}

/** The last path segment of a queue URL: its name. */
function queueName(url: string): string | undefined {
  const name = url.slice(url.lastIndexOf('/') + 1);
  return name === '' ? undefined : name;
}

/** DynamoDB: `TableName`, else the tables of a batch (`RequestItems`) or a transaction (`TransactItems`). */
function dynamoTables(input: Fields): string[] | undefined {
  const table = text(input.TableName);
  if (table !== undefined) return [table];
  const items = fieldsOf(input.RequestItems);
  if (items !== undefined) {
    const names = Object.keys(items);
    return names.length === 0 ? undefined : names;
  }
  if (!Array.isArray(input.TransactItems)) return undefined;
  const names = new Set<string>();
  for (const item of input.TransactItems as unknown[]) {
    // Each item is one of Get, Put, Update, Delete or ConditionCheck, with its TableName.
    for (const action of Object.values(fieldsOf(item) ?? {})) {
      const name = text(fieldsOf(action)?.TableName);
      if (name !== undefined) names.add(name);
    }
  }
  return names.size === 0 ? undefined : [...names];
}

/** Services whose resource is one input field, as `[field, attribute]` in order of preference. */
const namedResources: ReadonlyMap<string, readonly (readonly [string, string])[]> = new Map([
  ['S3', [['Bucket', 'aws.s3.bucket']]],
  [
    'SNS',
    [
      ['TopicArn', 'aws.sns.topic.arn'],
      ['TargetArn', 'aws.sns.topic.arn'],
    ],
  ],
  ['Kinesis', [['StreamName', 'aws.kinesis.stream_name']]],
  ['SFN', [['stateMachineArn', 'aws.step_functions.state_machine.arn']]],
]);

/**
 * The resource attributes of an AWS call, from its input: DynamoDB's table names, SQS's queue, S3's
 * bucket, SNS's topic, Kinesis's stream, Lambda's function, Step Functions' state machine, and a
 * secret given by ARN. Empty for a service or a command with none; never throws.
 *
 * @example
 * ```ts
 * awsInputAttributes('DynamoDB', { TableName: 'notes', Key: {} });
 * // { 'aws.dynamodb.table_names': ['notes'] }
 * ```
 */
export function awsInputAttributes(service: string, input: unknown): Attributes {
  const fields = fieldsOf(input);
  const attributes: Attributes = {};
  if (fields === undefined) return attributes;
  const named = namedResources.get(service);
  if (named !== undefined) {
    // The first of the input fields that is given.
    for (const [field, attribute] of named) {
      const value = text(fields[field]);
      if (value === undefined) continue;
      attributes[attribute] = value;
      break;
    }
    return attributes;
  }
  switch (service) {
    case 'DynamoDB': {
      const tables = dynamoTables(fields);
      if (tables !== undefined) attributes['aws.dynamodb.table_names'] = tables;
      break;
    }
    case 'SQS': {
      const url = text(fields.QueueUrl);
      if (url === undefined) break;
      attributes['aws.sqs.queue.url'] = url;
      // The name the collector's X-Ray exporter reads for the subsegment's `queue_url` (it does not
      // read the conventions' name); the exporter consumes it, so X-Ray shows the URL once.
      attributes['aws.queue_url'] = url;
      attributes['messaging.system'] = 'aws_sqs';
      const name = queueName(url);
      if (name !== undefined) attributes['messaging.destination.name'] = name;
      break;
    }
    case 'Lambda': {
      const name = text(fields.FunctionName);
      if (name !== undefined) {
        attributes['faas.invoked_name'] = name;
        attributes['faas.invoked_provider'] = 'aws';
      }
      break;
    }
    case 'SecretsManager': {
      const secret = text(fields.SecretId);
      if (secret?.startsWith('arn:')) attributes['aws.secretsmanager.secret.arn'] = secret;
      break;
    }
  }
  return attributes;
}

/**
 * The resource attributes an AWS call's output adds: the ARN of a secret asked for by name. Empty
 * for any other call; never throws.
 *
 * @example
 * ```ts
 * awsOutputAttributes('SecretsManager', { ARN: 'arn:aws:secretsmanager:eu-west-1:1:secret:db-AbC', Name: 'db' });
 * // { 'aws.secretsmanager.secret.arn': 'arn:aws:secretsmanager:eu-west-1:1:secret:db-AbC' }
 * ```
 */
export function awsOutputAttributes(service: string, output: unknown): Attributes {
  if (service !== 'SecretsManager') return {};
  const arn = text(fieldsOf(output)?.ARN);
  return arn === undefined ? {} : { 'aws.secretsmanager.secret.arn': arn };
}
