/**
 * The flow coordinator in the stack: fed by the job table's stream, filtered to the records of jobs in a flow,
 * retried and set aside on failure. Filtering and the on-failure destination are evaluated by AWS only; the
 * rules are pinned here with the pages they come from.
 */
import { Match, Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { FLOW_STREAM_RETRY_ATTEMPTS } from '../../infra/flows.js';
import { jobSystemStack } from './fixtures/stacks.js';

describe('flow coordinator', () => {
  let template: Template;
  beforeAll(() => {
    template = Template.fromStack(jobSystemStack().stack);
  });

  // https://docs.aws.amazon.com/lambda/latest/dg/invocation-eventfiltering.html: "you aren't charged for events
  // that Lambda filters out", filters are OR-ed, at most 5 per mapping by default; a DynamoDB pattern matches the
  // record's `dynamodb.NewImage` attribute values by type (`S`).
  it('reads the job table stream, passing only records of jobs in a flow (at most 5 filters)', () => {
    const mappings = template.findResources('AWS::Lambda::EventSourceMapping', {
      Properties: { FunctionName: { Ref: Match.stringLikeRegexp('^JobsFlowsCoordinator') } },
    });
    const [mapping] = Object.values(mappings);
    expect(mapping?.Properties).toMatchObject({
      EventSourceArn: { 'Fn::GetAtt': [expect.stringMatching(/^JobsJobsTable/), 'StreamArn'] },
      StartingPosition: 'TRIM_HORIZON',
      BisectBatchOnFunctionError: true,
      MaximumRetryAttempts: FLOW_STREAM_RETRY_ATTEMPTS,
      DestinationConfig: { OnFailure: { Destination: { 'Fn::GetAtt': [expect.stringMatching(/^JobsFlowsFailures/), 'Arn'] } } },
    });
    const patterns = ((mapping?.Properties.FilterCriteria.Filters ?? []) as { Pattern: string }[]).map((f) =>
      JSON.parse(f.Pattern),
    );
    expect(patterns.length).toBeLessThanOrEqual(5);
    expect(patterns.map((p) => Object.keys(p.dynamodb.NewImage)[0])).toEqual([
      'batchId',
      'enqueuedBy',
      'callbackOf',
      'waitingFor',
    ]);
    expect(patterns[0]).toEqual({ dynamodb: { NewImage: { batchId: { S: [{ exists: true }] } } } });
  });

  // https://docs.aws.amazon.com/lambda/latest/dg/with-ddb.html#events-dynamodb-permissions: the function's role
  // needs dynamodb:DescribeStream, GetRecords, GetShardIterator and ListStreams on the stream.
  it('may read the stream and send to the job queues', () => {
    const policies = template.findResources('AWS::IAM::Policy', {
      Properties: { Roles: Match.arrayWith([{ Ref: Match.stringLikeRegexp('^JobsFlowsCoordinator') }]) },
    });
    const actions = Object.values(policies).flatMap((p) =>
      (p.Properties.PolicyDocument.Statement as { Action: string | string[] }[]).flatMap((s) =>
        Array.isArray(s.Action) ? s.Action : [s.Action],
      ),
    );
    expect(actions).toEqual(
      expect.arrayContaining([
        'dynamodb:DescribeStream',
        'dynamodb:GetRecords',
        'dynamodb:GetShardIterator',
        'dynamodb:ListStreams',
      ]),
    );
    expect(actions).toEqual(expect.arrayContaining(['sqs:SendMessage', 'dynamodb:UpdateItem', 'dynamodb:PutItem']));
  });
});
