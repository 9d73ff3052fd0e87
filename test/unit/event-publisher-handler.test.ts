import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { mockClient } from 'aws-sdk-client-mock';
import { createEventPublisherHandler } from 'jobstack/worker';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { EventPublisherEnv } from '../../functions/event-publisher/environment.js';
import { lambdaContext } from '../helpers/events.js';
import { jobRecord, jobStreamRecord, streamEvent } from '../helpers/stream-records.js';

const eventBridge = mockClient(EventBridgeClient);
const env = {
  [EventPublisherEnv.eventBus]: 'arn:aws:events:us-east-1:111111111111:event-bus/default',
  [EventPublisherEnv.events]: 'succeeded,dead,cancelled',
  [EventPublisherEnv.stackName]: 'jobs-prod',
  POWERTOOLS_LOG_LEVEL: 'SILENT',
};

let saved: NodeJS.ProcessEnv;
beforeEach(() => {
  saved = { ...process.env };
  eventBridge.reset();
  eventBridge.on(PutEventsCommand).resolves({ FailedEntryCount: 0, Entries: [{ EventId: 'e-1' }] });
});
afterEach(() => {
  process.env = saved;
});

describe('createEventPublisherHandler', () => {
  it('fails at cold start naming the missing variables', () => {
    process.env = { ...saved, [EventPublisherEnv.stackName]: 'jobs-prod' };
    expect(() => createEventPublisherHandler()).toThrow(
      /event publisher environment is missing JOBSTACK_EVENT_BUS, JOBSTACK_LIFECYCLE_EVENTS/,
    );
  });

  it('fails at cold start on an unknown event name, quoting the value', () => {
    process.env = { ...saved, ...env, [EventPublisherEnv.events]: 'succeeded,finished' };
    expect(() => createEventPublisherHandler()).toThrow(/unknown lifecycle events finished \(given succeeded,finished\)/);
  });

  it('publishes a terminal transition to the bus from the environment', async () => {
    process.env = { ...saved, ...env };
    const handler = createEventPublisherHandler();
    const record = jobStreamRecord(jobRecord({ state: 'running' }), jobRecord({ state: 'succeeded', attempts: 1 }));
    await expect(handler(streamEvent(record), lambdaContext())).resolves.toEqual({ batchItemFailures: [] });
    expect(eventBridge).toHaveReceivedCommandWith(PutEventsCommand, {
      Entries: [
        expect.objectContaining({
          EventBusName: env[EventPublisherEnv.eventBus],
          Source: 'jobstack',
          DetailType: 'jobstack.job.succeeded',
          Detail: expect.stringContaining('"stack":"jobs-prod"'),
        }),
      ],
    });
  });
});
