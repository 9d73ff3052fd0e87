import { type CfnElement, Duration, RemovalPolicy, type Stack, Token } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import * as iam from 'aws-cdk-lib/aws-iam';
import { AwsSolutionsChecks } from 'cdk-nag';
import { beforeAll, describe, expect, it } from 'vitest';
import { ATTENTION_INDEX_NAME, FunctionEnv } from '../../shared/config.js';
import type { JobRegistry } from '../../shared/job-definition.js';
import { longCount, reportBuild, TWO_QUEUES } from './fixtures/contracts.js';
import { jobSystemStack } from './fixtures/stacks.js';

describe('JobSystem', () => {
  let template: Template;
  let stack: Stack;

  beforeAll(() => {
    // GIVEN two queues, defaults otherwise
    ({ stack } = jobSystemStack({ registry: TWO_QUEUES }));
    template = Template.fromStack(stack);
  });

  it('passes the cdk-nag AwsSolutions checks with two queues and demo jobs', () => {
    const report = new AwsSolutionsChecks(stack).validateScope(stack);
    expect(report.violations.map((v) => v.ruleName)).toEqual([]);
  });

  describe('queues', () => {
    it('creates a queue, an undeliverable queue and a dead-letter queue per queue plan (plus the scheduler DLQ, the event intake queue and DLQ, and the flow failures queue)', () => {
      template.resourceCountIs('AWS::SQS::Queue', 2 * 3 + 1 + 2 + 1);
    });

    it('redrives to the undeliverable queue after maxAttempts + 2 receives (crash safety net)', () => {
      template.hasResourceProperties('AWS::SQS::Queue', {
        RedrivePolicy: {
          deadLetterTargetArn: { 'Fn::GetAtt': [Match.stringLikeRegexp('^JobsUndeliverableQueueDefault'), 'Arn'] },
          maxReceiveCount: 7,
        },
      });
      template.hasResourceProperties('AWS::SQS::Queue', {
        RedrivePolicy: {
          deadLetterTargetArn: { 'Fn::GetAtt': [Match.stringLikeRegexp('^JobsUndeliverableQueueMediaReports'), 'Arn'] },
          maxReceiveCount: 5,
        },
      });
    });

    it('redrives the undeliverable queue to the DLQ if its consumer keeps failing', () => {
      template.hasResourceProperties('AWS::SQS::Queue', {
        RedrivePolicy: {
          deadLetterTargetArn: { 'Fn::GetAtt': [Match.stringLikeRegexp('^JobsDeadLetterQueueDefault'), 'Arn'] },
          maxReceiveCount: 5,
        },
      });
    });

    it('consumes each undeliverable queue with the dead-letter handler, reporting partial batch failures', () => {
      template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
        EventSourceArn: { 'Fn::GetAtt': [Match.stringLikeRegexp('^JobsUndeliverableQueueDefault'), 'Arn'] },
        FunctionResponseTypes: ['ReportBatchItemFailures'],
        FunctionName: { Ref: Match.stringLikeRegexp('^JobsDeadLetterHandlerDefault') },
      });
    });

    it('encrypts every queue, sets the 1 MiB message size and 14 days retention', () => {
      const queues = template.findResources('AWS::SQS::Queue');
      for (const queue of Object.values(queues)) {
        expect(queue.Properties).toMatchObject({
          SqsManagedSseEnabled: true,
          MaximumMessageSize: 1_048_576,
          MessageRetentionPeriod: 14 * 24 * 3600,
        });
      }
    });

    it('denies non-TLS access on every queue', () => {
      template.resourceCountIs('AWS::SQS::QueuePolicy', 2 * 3 + 1 + 2 + 1);
      const policies = template.findResources('AWS::SQS::QueuePolicy');
      for (const policy of Object.values(policies)) {
        expect(policy.Properties.PolicyDocument.Statement).toContainEqual(
          expect.objectContaining({
            Effect: 'Deny',
            Action: 'sqs:*',
            Condition: { Bool: { 'aws:SecureTransport': 'false' } },
          }),
        );
      }
    });

    it('sets visibility timeout to 6 × the worker timeout (job timeout + 30 s, capped at 15 min)', () => {
      // default: 60 s job → 90 s worker → 540 s visibility
      template.hasResourceProperties('AWS::SQS::Queue', { VisibilityTimeout: 540, RedrivePolicy: Match.anyValue() });
      // media-reports: 14 min job → 14.5 min worker → 5220 s visibility
      template.hasResourceProperties('AWS::SQS::Queue', { VisibilityTimeout: 5220, RedrivePolicy: Match.anyValue() });
      template.hasResourceProperties('AWS::Lambda::Function', { Timeout: 90 });
      template.hasResourceProperties('AWS::Lambda::Function', { Timeout: 870 });
    });
  });

  describe('workers', () => {
    it('runs arm64 Node.js 22 functions: a 512 MB worker and a dead-letter handler per queue, one sweeper, one event intake and one flow coordinator', () => {
      template.resourceCountIs('AWS::Lambda::Function', 2 * 2 + 3);
      template.allResourcesProperties('AWS::Lambda::Function', {
        Runtime: 'nodejs22.x',
        Architectures: ['arm64'],
        Handler: 'index.handler',
        TracingConfig: { Mode: 'Active' },
      });
      template.hasResourceProperties('AWS::Lambda::Function', {
        MemorySize: 512,
        Environment: { Variables: Match.objectLike({ POWERTOOLS_SERVICE_NAME: 'jobstack-worker' }) },
      });
    });

    it('runs the stuck-job sweeper every 5 minutes', () => {
      template.hasResourceProperties('AWS::Events::Rule', {
        ScheduleExpression: 'rate(5 minutes)',
        Targets: [Match.objectLike({ Arn: { 'Fn::GetAtt': [Match.stringLikeRegexp('^JobsSweeper'), 'Arn'] } })],
      });
    });

    it('passes the table names, queue URLs and settings the worker reads', () => {
      template.hasResourceProperties('AWS::Lambda::Function', {
        Environment: {
          Variables: {
            [FunctionEnv.jobsTable]: { Ref: Match.stringLikeRegexp('^JobsJobsTable') },
            [FunctionEnv.idempotencyTable]: { Ref: Match.stringLikeRegexp('^JobsIdempotencyTable') },
            [FunctionEnv.queueUrl]: { Ref: Match.stringLikeRegexp('^JobsQueueDefault') },
            [FunctionEnv.deadLetterQueueUrl]: { Ref: Match.stringLikeRegexp('^JobsDeadLetterQueueDefault') },
            [FunctionEnv.queueName]: 'default',
            [FunctionEnv.jobTypes]: 'demo.echo,demo.sleep',
            [FunctionEnv.recordRetentionDays]: '30',
            POWERTOOLS_SERVICE_NAME: 'jobstack-worker',
          },
        },
      });
    });

    it('consumes with partial batch responses, batch size 10 and maximum concurrency 10', () => {
      // Two per queue, the flow coordinator's on the job table stream, and the event intake's.
      template.resourceCountIs('AWS::Lambda::EventSourceMapping', 2 * 2 + 2);
      template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
        EventSourceArn: { 'Fn::GetAtt': [Match.stringLikeRegexp('^JobsQueueDefault'), 'Arn'] },
        FunctionResponseTypes: ['ReportBatchItemFailures'],
        BatchSize: 10,
        ScalingConfig: { MaximumConcurrency: 10 },
      });
    });

    it('writes logs to its own log group with a retention', () => {
      template.resourceCountIs('AWS::Logs::LogGroup', 2 * 2 + 3);
      template.allResourcesProperties('AWS::Logs::LogGroup', { RetentionInDays: 30 });
    });
  });

  describe('payload bucket', () => {
    it('keeps large payloads encrypted, private, TLS-only, and expiring a day after the job records', () => {
      template.hasResourceProperties('AWS::S3::Bucket', {
        BucketEncryption: { ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }] },
        PublicAccessBlockConfiguration: {
          BlockPublicAcls: true,
          BlockPublicPolicy: true,
          IgnorePublicAcls: true,
          RestrictPublicBuckets: true,
        },
        LifecycleConfiguration: { Rules: [Match.objectLike({ ExpirationInDays: 31, Status: 'Enabled' })] },
      });
      template.hasResourceProperties('AWS::S3::BucketPolicy', {
        PolicyDocument: {
          Statement: Match.arrayWith([
            Match.objectLike({ Effect: 'Deny', Action: 's3:*', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
          ]),
        },
      });
    });
  });

  describe('tables', () => {
    it('keys the jobs table by id, with TTL, PITR, AWS-managed encryption and on-demand billing', () => {
      template.hasResourceProperties('AWS::DynamoDB::Table', {
        KeySchema: [{ AttributeName: 'id', KeyType: 'HASH' }],
        BillingMode: 'PAY_PER_REQUEST',
        TimeToLiveSpecification: { AttributeName: 'expiresAt', Enabled: true },
        PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
        SSESpecification: { SSEEnabled: true },
        GlobalSecondaryIndexes: Match.anyValue(),
      });
    });

    it('has exactly one sparse attention index keyed by attentionState and updatedAt', () => {
      template.hasResourceProperties('AWS::DynamoDB::Table', {
        GlobalSecondaryIndexes: [
          {
            IndexName: ATTENTION_INDEX_NAME,
            KeySchema: [
              { AttributeName: 'attentionState', KeyType: 'HASH' },
              { AttributeName: 'updatedAt', KeyType: 'RANGE' },
            ],
            Projection: { ProjectionType: 'ALL' },
          },
        ],
        AttributeDefinitions: Match.arrayWith([
          { AttributeName: 'attentionState', AttributeType: 'S' },
          { AttributeName: 'updatedAt', AttributeType: 'S' },
        ]),
      });
    });

    it('creates the idempotency table with TTL and PITR', () => {
      template.resourceCountIs('AWS::DynamoDB::Table', 2);
      const tables = Object.values(template.findResources('AWS::DynamoDB::Table'));
      const withTtl = tables.filter((t) => t.Properties.TimeToLiveSpecification !== undefined);
      expect(withTtl).toHaveLength(2);
      for (const table of tables) {
        expect(table.Properties.PointInTimeRecoverySpecification).toEqual({ PointInTimeRecoveryEnabled: true });
      }
    });

    it('retains tables by default', () => {
      const tables = Object.values(template.findResources('AWS::DynamoDB::Table'));
      for (const table of tables) expect(table.DeletionPolicy).toBe('Retain');
    });
  });

  describe('worker permissions', () => {
    function workerPolicyActions(): string[] {
      const policies = template.findResources('AWS::IAM::Policy', {
        Properties: { Roles: [{ Ref: Match.stringLikeRegexp('^JobsWorkerRoleDefault') }] },
      });
      expect(Object.keys(policies)).toHaveLength(1);
      const statements = Object.values(policies)[0]?.Properties.PolicyDocument.Statement as { Action: string | string[] }[];
      return statements.flatMap((s) => (Array.isArray(s.Action) ? s.Action : [s.Action]));
    }

    it('lists explicit actions only: no wildcards, no table or queue administration', () => {
      const actions = workerPolicyActions();
      expect(actions).toEqual(
        expect.arrayContaining([
          'dynamodb:GetItem',
          'dynamodb:PutItem',
          'dynamodb:UpdateItem',
          'dynamodb:Query',
          'sqs:ReceiveMessage',
          'sqs:DeleteMessage',
          'sqs:ChangeMessageVisibility',
          'sqs:SendMessage',
          'logs:CreateLogStream',
          'logs:PutLogEvents',
        ]),
      );
      for (const action of actions) expect(action).not.toMatch(/\*/);
      for (const forbidden of ['dynamodb:DeleteTable', 'dynamodb:UpdateTable', 'sqs:DeleteQueue', 'sqs:PurgeQueue']) {
        expect(actions).not.toContain(forbidden);
      }
    });

    it('may run PartiQL UPDATEs on the jobs table only, for its batched success writes (ql-iam.html: BatchExecuteStatement needs dynamodb:PartiQLUpdate per statement)', () => {
      // https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/ql-iam.html
      template.hasResourceProperties('AWS::IAM::Policy', {
        Roles: [{ Ref: Match.stringLikeRegexp('^JobsWorkerRoleDefault') }],
        PolicyDocument: {
          Statement: Match.arrayWith([
            Match.objectLike({
              Action: 'dynamodb:PartiQLUpdate',
              Effect: 'Allow',
              Resource: { 'Fn::GetAtt': [Match.stringLikeRegexp('^JobsJobsTable'), 'Arn'] },
            }),
          ]),
        },
      });
      const actions = workerPolicyActions();
      for (const other of ['dynamodb:PartiQLInsert', 'dynamodb:PartiQLDelete', 'dynamodb:PartiQLSelect'])
        expect(actions).not.toContain(other);
    });

    it('may send only to its own dead-letter queue, not to other queues', () => {
      template.hasResourceProperties('AWS::IAM::Policy', {
        Roles: [{ Ref: Match.stringLikeRegexp('^JobsWorkerRoleDefault') }],
        PolicyDocument: {
          Statement: Match.arrayWith([
            Match.objectLike({
              Action: Match.arrayWith(['sqs:SendMessage']),
              Resource: { 'Fn::GetAtt': [Match.stringLikeRegexp('^JobsDeadLetterQueueDefault'), 'Arn'] },
            }),
          ]),
        },
      });
    });

    it('does not use the AWSLambdaBasicExecutionRole managed policy', () => {
      template.allResourcesProperties('AWS::IAM::Role', { ManagedPolicyArns: Match.absent() });
    });
  });
});

describe('JobSystem grants', () => {
  function grantedStatements(
    grant: 'grantEnqueue' | 'grantRead' | 'grantOperate' | 'grantResolveSteps' | 'grantPause',
  ): { Action: string | string[]; Resource: unknown }[] {
    const { stack, jobs } = jobSystemStack();
    const role = new iam.Role(stack, 'App', { assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com') });
    jobs[grant](role);
    const policies = Template.fromStack(stack).findResources('AWS::IAM::Policy', {
      Properties: { Roles: [{ Ref: Match.stringLikeRegexp('^App') }] },
    });
    return Object.values(policies).flatMap((p) => p.Properties.PolicyDocument.Statement);
  }
  const actionsOf = (statements: { Action: string | string[] }[]) =>
    statements.flatMap((s) => (Array.isArray(s.Action) ? s.Action : [s.Action]));

  it('grantEnqueue allows sending to the queues and writing job records, nothing on the DLQs', () => {
    const statements = grantedStatements('grantEnqueue');
    expect(actionsOf(statements)).toEqual(
      expect.arrayContaining([
        'sqs:SendMessage',
        'dynamodb:PutItem',
        'dynamodb:BatchWriteItem',
        'dynamodb:GetItem',
        'dynamodb:UpdateItem',
        'dynamodb:DeleteItem',
      ]),
    );
    expect(actionsOf(statements)).not.toContain('dynamodb:DeleteTable');
    expect(JSON.stringify(statements)).not.toMatch(/DeadLetterQueue/);
    expect(actionsOf(statements)).not.toContain('sqs:ReceiveMessage');
  });

  it('grantRead allows reading records, queue attributes, event source states and the own stack’s outputs only', () => {
    const actions = actionsOf(grantedStatements('grantRead'));
    expect(new Set(actions)).toEqual(
      new Set([
        'dynamodb:GetItem',
        'dynamodb:BatchGetItem',
        'dynamodb:Query',
        'dynamodb:Scan',
        'sqs:GetQueueAttributes',
        'lambda:GetEventSourceMapping',
        'cloudformation:DescribeStacks',
      ]),
    );
  });

  it('every grant lets connectJobClient read the outputs: DescribeStacks on the construct’s own stack, nothing wider', () => {
    for (const grant of ['grantEnqueue', 'grantRead', 'grantOperate', 'grantResolveSteps', 'grantPause'] as const) {
      const statements = grantedStatements(grant).filter((s) => actionsOf([s]).includes('cloudformation:DescribeStacks'));
      expect({ grant, statements }).toEqual({
        grant,
        statements: [{ Effect: 'Allow', Action: 'cloudformation:DescribeStacks', Resource: { Ref: 'AWS::StackId' } }],
      });
    }
  });
});

describe('JobSystem options', () => {
  it('creates only its own two tables: resources of the app (such as the demo ledger) are the app stack’s', () => {
    const { stack } = jobSystemStack();
    Template.fromStack(stack).resourceCountIs('AWS::DynamoDB::Table', 2);
  });

  it('lists every function that runs job code in jobFunctions: each queue’s worker and the long-job step function', () => {
    const { stack, jobs } = jobSystemStack({ registry: { ...TWO_QUEUES, [longCount.name]: longCount } });
    const ids = jobs.jobFunctions.map((fn) => stack.resolve((fn.node.defaultChild as CfnElement).logicalId) as string);
    expect(ids).toHaveLength(3);
    expect(ids.filter((id) => id.startsWith('JobsWorker'))).toHaveLength(2);
    expect(ids.filter((id) => id.startsWith('JobsLongJobsStepFunction'))).toHaveLength(1);
  });

  it('passes batch size, concurrency and batching window to the event source', () => {
    const { stack } = jobSystemStack({ batchSize: 50, maxConcurrency: 100, maxBatchingWindow: Duration.seconds(5) });
    Template.fromStack(stack).hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      BatchSize: 50,
      MaximumBatchingWindowInSeconds: 5,
      ScalingConfig: { MaximumConcurrency: 100 },
    });
  });

  it('applies workerTimeout, visibilityTimeout, recordRetention and removalPolicy', () => {
    const { stack } = jobSystemStack({
      workerTimeout: Duration.minutes(2),
      visibilityTimeout: Duration.minutes(15),
      recordRetention: Duration.days(7),
      removalPolicy: RemovalPolicy.DESTROY,
    });
    const template = Template.fromStack(stack);
    template.hasResourceProperties('AWS::Lambda::Function', {
      Timeout: 120,
      Environment: { Variables: Match.objectLike({ [FunctionEnv.recordRetentionDays]: '7' }) },
    });
    template.hasResourceProperties('AWS::SQS::Queue', { VisibilityTimeout: 900, RedrivePolicy: Match.anyValue() });
    for (const table of Object.values(template.findResources('AWS::DynamoDB::Table'))) {
      expect(table.DeletionPolicy).toBe('Delete');
    }
  });

  it('applies per-queue settings over the construct-wide ones', () => {
    const { stack, jobs } = jobSystemStack({
      registry: TWO_QUEUES,
      batchSize: 5,
      maxConcurrency: 20,
      workerTimeout: Duration.minutes(2),
      queues: {
        'media-reports': {
          batchSize: 100,
          maxConcurrency: 3,
          maxBatchingWindow: Duration.seconds(30),
          workerTimeout: Duration.minutes(10),
        },
      },
    });
    const template = Template.fromStack(stack);
    const logicalId = (construct: unknown) =>
      stack.getLogicalId((construct as { node: { defaultChild: CfnElement } }).node.defaultChild);
    const workerOf = (name: string) => logicalId(jobs.queues.get(name)?.worker);
    const queueOf = (name: string) => logicalId(jobs.queues.get(name)?.queue);
    template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      FunctionName: { Ref: workerOf('default') },
      BatchSize: 5,
      MaximumBatchingWindowInSeconds: Match.absent(),
      ScalingConfig: { MaximumConcurrency: 20 },
    });
    template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      FunctionName: { Ref: workerOf('media-reports') },
      BatchSize: 100,
      MaximumBatchingWindowInSeconds: 30,
      ScalingConfig: { MaximumConcurrency: 3 },
    });
    const functions = template.findResources('AWS::Lambda::Function');
    expect(functions[workerOf('default')]?.Properties.Timeout).toBe(120);
    expect(functions[workerOf('media-reports')]?.Properties.Timeout).toBe(600);
    const sqsQueues = template.findResources('AWS::SQS::Queue');
    expect(sqsQueues[queueOf('default')]?.Properties.VisibilityTimeout).toBe(720);
    expect(sqsQueues[queueOf('media-reports')]?.Properties.VisibilityTimeout).toBe(3600);
  });

  it('takes a per-queue visibility timeout and inherits what a queue does not set', () => {
    const { stack, jobs } = jobSystemStack({
      registry: TWO_QUEUES,
      maxBatchingWindow: Duration.seconds(2),
      queues: { default: { visibilityTimeout: Duration.hours(1) } },
    });
    const template = Template.fromStack(stack);
    const queueId = stack.getLogicalId(jobs.queues.get('default')?.queue.node.defaultChild as CfnElement);
    expect(template.findResources('AWS::SQS::Queue')[queueId]?.Properties.VisibilityTimeout).toBe(3600);
    const mappings = Object.values(template.findResources('AWS::Lambda::EventSourceMapping'));
    const workerMappings = mappings.filter((m) => m.Properties.ScalingConfig !== undefined);
    expect(workerMappings).toHaveLength(2);
    for (const mapping of workerMappings) {
      expect(mapping.Properties).toMatchObject({
        BatchSize: 10,
        MaximumBatchingWindowInSeconds: 2,
        ScalingConfig: { MaximumConcurrency: 10 },
      });
    }
  });

  it('exposes queue, dead-letter queue and worker per queue name', () => {
    const { jobs } = jobSystemStack({ registry: TWO_QUEUES });
    expect([...jobs.queues.keys()]).toEqual(['default', 'media-reports']);
    const reports = jobs.queues.get('media-reports');
    expect(reports?.queue).toBeDefined();
    expect(reports?.deadLetterQueue).toBeDefined();
    expect(reports?.worker).toBeDefined();
  });

  it('warns when workerTimeout is shorter than the longest job timeout', () => {
    const { stack } = jobSystemStack({ registry: { [reportBuild.name]: reportBuild }, workerTimeout: Duration.minutes(1) });
    Annotations.fromStack(stack).hasWarning('*', Match.stringLikeRegexp("queue 'media-reports': workerTimeout 1 minute"));
  });

  it('skips validation of unresolved tokens', () => {
    expect(() => jobSystemStack({ maxConcurrency: Token.asNumber({ Ref: 'Concurrency' }) })).not.toThrow();
  });
});

describe('JobSystem validation', () => {
  it('fails if maxConcurrency is below 2', () => {
    expect(() => jobSystemStack({ maxConcurrency: 1 })).toThrow(/maxConcurrency must be 2\.\.1000 \(given 1\)/);
  });

  it('fails if maxConcurrency is above 1000', () => {
    expect(() => jobSystemStack({ maxConcurrency: 1001 })).toThrow(/maxConcurrency must be 2\.\.1000 \(given 1001\)/);
  });

  it('fails if batchSize is out of range', () => {
    expect(() => jobSystemStack({ batchSize: 0 })).toThrow(/batchSize must be 1\.\.10000 \(given 0\)/);
    expect(() => jobSystemStack({ batchSize: 20_000 })).toThrow(/batchSize must be 1\.\.10000 \(given 20000\)/);
  });

  it('fails if batchSize is above 10 without a batching window', () => {
    expect(() => jobSystemStack({ batchSize: 11 })).toThrow(/batchSize above 10 needs maxBatchingWindow \(given batchSize 11/);
  });

  it('fails if the visibility timeout is below 6 × the worker timeout', () => {
    expect(() => jobSystemStack({ workerTimeout: Duration.minutes(2), visibilityTimeout: Duration.minutes(10) })).toThrow(
      /visibilityTimeout must be at least 6 × the worker timeout for queue 'default' \(given visibilityTimeout 10 minutes, worker timeout 2 minutes, so at least 720 seconds\)/,
    );
  });

  it('fails if the visibility timeout is below 6 × the default worker timeout', () => {
    expect(() => jobSystemStack({ visibilityTimeout: Duration.minutes(5) })).toThrow(
      /worker timeout 1 minute 30 seconds, so at least 540 seconds/,
    );
  });

  it('fails if the visibility timeout is above 12 hours', () => {
    expect(() => jobSystemStack({ visibilityTimeout: Duration.hours(13) })).toThrow(
      /visibilityTimeout must be at most 12 hours \(given 13 hours\)/,
    );
  });

  it('fails if the worker timeout is above 15 minutes', () => {
    expect(() => jobSystemStack({ workerTimeout: Duration.minutes(16) })).toThrow(
      /workerTimeout must be 1 second\.\.15 minutes \(given 16 minutes\)/,
    );
  });

  it('fails if the record retention is not whole days', () => {
    expect(() => jobSystemStack({ recordRetention: Duration.hours(36) })).toThrow(
      /recordRetention must be a whole number of days, at least 1 \(given 1 day 12 hours\)/,
    );
  });

  it('fails if the registry holds no job type', () => {
    expect(() => jobSystemStack({ registry: {} })).toThrow(/registry must hold at least one job type \(given none\)/);
  });

  it('fails if a per-queue override names a queue the registry does not plan', () => {
    expect(() => jobSystemStack({ registry: TWO_QUEUES, queues: { reports: { maxConcurrency: 5 } } })).toThrow(
      /queues: unknown queue 'reports' \(given queues\.reports; the registry's queues are 'default', 'media-reports'\)/,
    );
  });

  it('fails if a per-queue maxConcurrency is out of range, naming the queue', () => {
    expect(() => jobSystemStack({ registry: TWO_QUEUES, queues: { 'media-reports': { maxConcurrency: 1 } } })).toThrow(
      /queues\['media-reports'\]\.maxConcurrency must be 2\.\.1000 \(given 1\)/,
    );
    expect(() => jobSystemStack({ registry: TWO_QUEUES, queues: { default: { maxConcurrency: 1001 } } })).toThrow(
      /queues\['default'\]\.maxConcurrency must be 2\.\.1000 \(given 1001\)/,
    );
  });

  it('fails if a per-queue batchSize is out of range, naming the queue', () => {
    expect(() => jobSystemStack({ registry: TWO_QUEUES, queues: { 'media-reports': { batchSize: 0 } } })).toThrow(
      /queues\['media-reports'\]\.batchSize must be 1\.\.10000 \(given 0\)/,
    );
    expect(() => jobSystemStack({ registry: TWO_QUEUES, queues: { 'media-reports': { batchSize: 10_001 } } })).toThrow(
      /queues\['media-reports'\]\.batchSize must be 1\.\.10000 \(given 10001\)/,
    );
  });

  it('fails if a per-queue batchSize above 10 has no batching window, on the queue or construct-wide', () => {
    expect(() => jobSystemStack({ registry: TWO_QUEUES, queues: { 'media-reports': { batchSize: 11 } } })).toThrow(
      /queue 'media-reports': batchSize above 10 needs maxBatchingWindow \(given batchSize 11 and no window\)/,
    );
    expect(() =>
      jobSystemStack({
        registry: TWO_QUEUES,
        maxBatchingWindow: Duration.seconds(1),
        queues: { 'media-reports': { batchSize: 11 } },
      }),
    ).not.toThrow();
  });

  it('fails if a per-queue batching window is above 5 minutes, naming the queue', () => {
    expect(() =>
      jobSystemStack({ registry: TWO_QUEUES, queues: { default: { maxBatchingWindow: Duration.minutes(6) } } }),
    ).toThrow(/queues\['default'\]\.maxBatchingWindow must be at most 5 minutes \(given 6 minutes\)/);
  });

  it('fails if a per-queue worker timeout is above 15 minutes, naming the queue', () => {
    expect(() => jobSystemStack({ registry: TWO_QUEUES, queues: { default: { workerTimeout: Duration.minutes(16) } } })).toThrow(
      /queues\['default'\]\.workerTimeout must be 1 second\.\.15 minutes \(given 16 minutes\)/,
    );
  });

  it('fails if a per-queue visibility timeout is below 6 × that queue’s worker timeout', () => {
    expect(() =>
      jobSystemStack({
        registry: TWO_QUEUES,
        queues: { default: { workerTimeout: Duration.minutes(2), visibilityTimeout: Duration.minutes(10) } },
      }),
    ).toThrow(
      /visibilityTimeout must be at least 6 × the worker timeout for queue 'default' \(given visibilityTimeout 10 minutes, worker timeout 2 minutes, so at least 720 seconds\)/,
    );
    // A construct-wide visibility timeout is checked against each queue's own worker timeout.
    expect(() =>
      jobSystemStack({
        registry: TWO_QUEUES,
        visibilityTimeout: Duration.minutes(30),
        queues: { 'media-reports': { workerTimeout: Duration.minutes(10) } },
      }),
    ).toThrow(
      /for queue 'media-reports' \(given visibilityTimeout 30 minutes, worker timeout 10 minutes, so at least 3600 seconds\)/,
    );
  });

  it('fails if a per-queue visibility timeout is above 12 hours, naming the queue', () => {
    expect(() =>
      jobSystemStack({ registry: TWO_QUEUES, queues: { default: { visibilityTimeout: Duration.hours(13) } } }),
    ).toThrow(/queues\['default'\]\.visibilityTimeout must be at most 12 hours \(given 13 hours\)/);
  });

  it('fails if maxAttempts of a hand-made registry entry would exceed the SQS maxReceiveCount limit', () => {
    // defineJob allows at most 100 attempts; a registry is a plain object, so the construct checks again.
    const registry: JobRegistry = { [reportBuild.name]: { ...reportBuild, retry: { ...reportBuild.retry, maxAttempts: 999 } } };
    expect(() => jobSystemStack({ registry })).toThrow(/queue 'media-reports': maxAttempts must be 1\.\.998 \(given 999\)/);
  });
});
