import { CloudFormationClient, ListStackResourcesCommand } from '@aws-sdk/client-cloudformation';
import { CloudWatchLogsClient, FilterLogEventsCommand } from '@aws-sdk/client-cloudwatch-logs';
import { mockClient } from 'aws-sdk-client-mock';
import { describe, expect, it } from 'vitest';
import { formatJobLogLine, jobLogLine, readJobLogs } from '../../cli/job-logs.js';

const line = (fields: object) => JSON.stringify({ level: 'INFO', service: 'jobstack-worker', function_name: 'f', ...fields });

describe('a job log line', () => {
  it('keeps a structured line of the job, with its own fields apart from where it came from', () => {
    const parsed = jobLogLine('g', 0, line({ message: 'Job failed', jobId: 'j1', attempt: 2, error: 'boom' }), 'j1');
    expect(parsed).toEqual({
      timestamp: '1970-01-01T00:00:00.000Z',
      logGroup: 'g',
      level: 'INFO',
      message: 'Job failed',
      attempt: 2,
      fields: { error: 'boom' },
    });
    expect(formatJobLogLine(parsed as never)).toBe('1970-01-01T00:00:00.000Z INFO  #2 Job failed {"error":"boom"}');
  });

  it("reads the JSON after Lambda's own tab-separated prefix", () => {
    const text = `2026-12-01T00:00:00.000Z\trequest-1\tINFO\t${line({ message: 'hi', jobId: 'j1' })}`;
    expect(jobLogLine('g', 0, text, 'j1')?.message).toBe('hi');
  });

  it('drops lines of other jobs, lines that only mention the id, and lines that are not JSON', () => {
    expect(jobLogLine('g', 0, line({ message: 'x', jobId: 'j2' }), 'j1')).toBeUndefined();
    expect(jobLogLine('g', 0, 'retrying j1 soon', 'j1')).toBeUndefined();
    expect(jobLogLine('g', 0, '{ not json j1', 'j1')).toBeUndefined();
  });
});

describe('reading a job log', () => {
  it('reads every log group of the stack by the jobId field and merges them oldest first', async () => {
    const cloudFormation = mockClient(CloudFormationClient);
    cloudFormation.on(ListStackResourcesCommand).resolves({
      StackResourceSummaries: [
        {
          ResourceType: 'AWS::Logs::LogGroup',
          LogicalResourceId: 'W',
          PhysicalResourceId: 'worker-logs',
          ResourceStatus: 'CREATE_COMPLETE',
          LastUpdatedTimestamp: new Date(),
        },
        {
          ResourceType: 'AWS::Logs::LogGroup',
          LogicalResourceId: 'D',
          PhysicalResourceId: 'dlq-logs',
          ResourceStatus: 'CREATE_COMPLETE',
          LastUpdatedTimestamp: new Date(),
        },
        {
          ResourceType: 'AWS::SQS::Queue',
          LogicalResourceId: 'Q',
          PhysicalResourceId: 'queue',
          ResourceStatus: 'CREATE_COMPLETE',
          LastUpdatedTimestamp: new Date(),
        },
      ],
    });
    const logs = mockClient(CloudWatchLogsClient);
    logs.on(FilterLogEventsCommand, { logGroupName: 'worker-logs' }).resolves({
      events: [
        { timestamp: 3_000, message: line({ message: 'Job succeeded', jobId: 'j1', attempt: 2 }) },
        { timestamp: 1_000, message: line({ message: 'Job failed', jobId: 'j1', attempt: 1 }) },
        { timestamp: 1_500, message: line({ message: 'other', jobId: 'j9' }) },
      ],
    });
    logs.on(FilterLogEventsCommand, { logGroupName: 'dlq-logs' }).resolves({
      events: [{ timestamp: 2_000, message: line({ message: 'Dead letter recorded', jobId: 'j1' }) }],
    });

    const lines = await readJobLogs(
      { cloudFormation: new CloudFormationClient({}), logs: new CloudWatchLogsClient({}) },
      { stackName: 's', jobId: 'j1', startTime: 500, limit: 10 },
    );
    expect(lines.map((l) => [l.logGroup, l.message])).toEqual([
      ['worker-logs', 'Job failed'],
      ['dlq-logs', 'Dead letter recorded'],
      ['worker-logs', 'Job succeeded'],
    ]);
    const calls = logs.commandCalls(FilterLogEventsCommand).map((call) => call.args[0].input);
    expect(calls).toHaveLength(2);
    for (const input of calls) expect(input).toMatchObject({ startTime: 500, filterPattern: '{ $.jobId = "j1" }' });
  });
});
