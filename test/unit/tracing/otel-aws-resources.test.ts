import { describe, expect, it } from 'vitest';
import { clientSpan } from '../../../src/tracing/otel/attributes.js';
import { awsInputAttributes, awsOutputAttributes } from '../../../src/tracing/otel/aws-resources.js';

const queueUrl = 'https://sqs.eu-west-1.amazonaws.com/123456789012/orders';

describe('the resource attributes of an AWS call (OpenTelemetry mode)', () => {
  it('DynamoDB: the table of a single-table command, the tables of a batch and of a transaction', () => {
    expect(awsInputAttributes('DynamoDB', { TableName: 'notes', Key: {} })).toEqual({
      'aws.dynamodb.table_names': ['notes'],
    });
    expect(awsInputAttributes('DynamoDB', { RequestItems: { notes: {}, users: {} } })).toEqual({
      'aws.dynamodb.table_names': ['notes', 'users'],
    });
    const transaction = {
      TransactItems: [
        { Put: { TableName: 'orders', Item: {} } },
        { Update: { TableName: 'stock', Key: {} } },
        { ConditionCheck: { TableName: 'orders', Key: {} } },
      ],
    };
    expect(awsInputAttributes('DynamoDB', transaction)).toEqual({
      'aws.dynamodb.table_names': ['orders', 'stock'],
    });
    expect(awsInputAttributes('DynamoDB', { Limit: 10 })).toEqual({});
  });

  it('SQS: the queue URL under the conventions name and the X-Ray exporter name, and the queue name', () => {
    expect(awsInputAttributes('SQS', { QueueUrl: queueUrl, MessageBody: 'x' })).toEqual({
      'aws.sqs.queue.url': queueUrl,
      'aws.queue_url': queueUrl,
      'messaging.system': 'aws_sqs',
      'messaging.destination.name': 'orders',
    });
  });

  it('S3, SNS, Kinesis, Lambda and Step Functions: the resource each command names', () => {
    expect(awsInputAttributes('S3', { Bucket: 'uploads', Key: 'a/b.png' })).toEqual({
      'aws.s3.bucket': 'uploads',
    });
    const topic = 'arn:aws:sns:eu-west-1:123456789012:events';
    expect(awsInputAttributes('SNS', { TopicArn: topic, Message: 'x' })).toEqual({
      'aws.sns.topic.arn': topic,
    });
    expect(awsInputAttributes('SNS', { TargetArn: topic })).toEqual({ 'aws.sns.topic.arn': topic });
    expect(awsInputAttributes('Kinesis', { StreamName: 'clicks' })).toEqual({
      'aws.kinesis.stream_name': 'clicks',
    });
    expect(awsInputAttributes('Lambda', { FunctionName: 'resize' })).toEqual({
      'faas.invoked_name': 'resize',
      'faas.invoked_provider': 'aws',
    });
    const machine = 'arn:aws:states:eu-west-1:123456789012:stateMachine:checkout';
    expect(awsInputAttributes('SFN', { stateMachineArn: machine })).toEqual({
      'aws.step_functions.state_machine.arn': machine,
    });
  });

  it('Secrets Manager: the ARN of the secret, from the input when given by ARN, else from the answer', () => {
    const arn = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:db-AbCdEf';
    expect(awsInputAttributes('SecretsManager', { SecretId: arn })).toEqual({
      'aws.secretsmanager.secret.arn': arn,
    });
    expect(awsInputAttributes('SecretsManager', { SecretId: 'db' })).toEqual({});
    expect(awsOutputAttributes('SecretsManager', { ARN: arn, Name: 'db', SecretString: 's3cr3t' })).toEqual({
      'aws.secretsmanager.secret.arn': arn,
    });
    expect(awsOutputAttributes('SSM', { Parameter: { ARN: arn } })).toEqual({});
  });

  it('never throws on inputs and outputs of unexpected shapes, and records no value that is not text', () => {
    for (const input of [
      undefined,
      null,
      'x',
      42,
      [],
      { TableName: 7 },
      { RequestItems: 'x' },
      { TransactItems: [null, 1, { Put: null }] },
    ]) {
      expect(awsInputAttributes('DynamoDB', input)).toEqual({});
    }
    expect(awsInputAttributes('SQS', { QueueUrl: ['x'] })).toEqual({});
    expect(awsInputAttributes('S3', { Bucket: '' })).toEqual({});
    expect(awsOutputAttributes('SecretsManager', undefined)).toEqual({});
    expect(awsOutputAttributes('SecretsManager', { ARN: 1 })).toEqual({});
    expect(awsInputAttributes('EC2', { InstanceIds: ['i-1'] })).toEqual({});
    expect(awsInputAttributes('constructor', { Bucket: 'x' })).toEqual({});
  });

  it("are on the client span from its start, beside the call's RPC attributes", () => {
    const { name, attributes } = clientSpan({
      kind: 'aws',
      service: 'DynamoDB',
      operation: 'GetItem',
      region: 'eu-west-1',
      input: { TableName: 'notes' },
    });
    expect(name).toBe('DynamoDB.GetItem');
    expect(attributes).toEqual({
      'rpc.system': 'aws-api',
      'rpc.service': 'DynamoDB',
      'rpc.method': 'GetItem',
      'cloud.region': 'eu-west-1',
      'aws.region': 'eu-west-1',
      'aws.dynamodb.table_names': ['notes'],
    });
  });
});
