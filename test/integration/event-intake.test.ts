import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { CloudFormationClient, ListStackResourcesCommand } from '@aws-sdk/client-cloudformation';
import { GetQueueAttributesCommand, SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { beforeAll, describe, expect, inject, it } from 'vitest';
import { installAwsCli } from '../../cli/local/emulator.js';
import type { Registry } from '../../functions/jobs/contracts.js';
import { type JobClient, localConnection } from '../../shared/index.js';
import { intakeInputTemplate } from '../../shared/triggers/intake-message.js';
import { eventJobId } from '../../shared/triggers/trigger.js';
import { connectTestClient, demoLedgerTable, findDeadLetter, ledgerCount, testEndpoint, uniqueName } from './helpers.js';

// Jobs from EventBridge events on the deployed demo stack, put with the real AWS CLI (PyPI awscli,
// installed into the project's .venv here) as a producer in any language would: `jobstack.enqueue`
// events and `demo.greet`, which `CustomerSignedUp` events from `demo.shop` start.

const run = promisify(execFile);
let aws: string;
let jobs: JobClient<Registry>;
let ledger: string;
let intake: { queueUrl: string; deadLetterUrl: string };

beforeAll(async () => {
  aws = await installAwsCli((line) => console.log(line));
  jobs = await connectTestClient();
  ledger = await demoLedgerTable();
  intake = await intakeQueues();
}, 180_000);

type Entry = { Source: string; DetailType: string; Detail: unknown };

/** `aws events put-events` against the emulator; returns the event ids EventBridge assigned. */
async function putEvents(...entries: Entry[]): Promise<string[]> {
  const { stdout } = await run(
    aws,
    [
      'events',
      'put-events',
      '--endpoint-url',
      testEndpoint(),
      '--output',
      'json',
      '--entries',
      JSON.stringify(entries.map((entry) => ({ ...entry, Detail: JSON.stringify(entry.Detail) }))),
    ],
    {
      env: { ...process.env, AWS_ACCESS_KEY_ID: 'test', AWS_SECRET_ACCESS_KEY: 'test', AWS_DEFAULT_REGION: 'us-east-1' },
      timeout: 60_000,
    },
  );
  const output = JSON.parse(stdout) as { FailedEntryCount: number; Entries: { EventId: string }[] };
  expect(output.FailedEntryCount).toBe(0);
  return output.Entries.map((entry) => entry.EventId);
}

function enqueueEntry(detail: Record<string, unknown>): Entry {
  return { Source: 'integration.tests', DetailType: 'jobstack.enqueue', Detail: detail };
}

/** The intake queue and its dead-letter queue of the demo stack's job system. */
async function intakeQueues(): Promise<{ queueUrl: string; deadLetterUrl: string }> {
  const cloudFormation = new CloudFormationClient(localConnection(testEndpoint()));
  const queues = new Map<string, string>();
  let nextToken: string | undefined;
  do {
    const page = await cloudFormation.send(
      new ListStackResourcesCommand({ StackName: inject('stackName'), NextToken: nextToken }),
    );
    for (const resource of page.StackResourceSummaries ?? []) {
      if (resource.ResourceType === 'AWS::SQS::Queue' && resource.PhysicalResourceId)
        queues.set(resource.LogicalResourceId ?? '', resource.PhysicalResourceId);
    }
    nextToken = page.NextToken;
  } while (nextToken);
  const find = (pattern: RegExp) => [...queues].find(([id]) => pattern.test(id))?.[1];
  const queueUrl = find(/EventIntakeQueue[0-9A-F]{8}$/);
  const deadLetterUrl = find(/EventIntakeDeadLetterQueue[0-9A-F]{8}$/);
  if (!queueUrl || !deadLetterUrl)
    throw new Error(`the stack has no event intake queues (queues: ${[...queues.keys()].join(', ')})`);
  return { queueUrl, deadLetterUrl };
}

/** Waits until the intake queue holds no message, visible or in flight: every event put so far was handled. */
async function intakeDrained(): Promise<void> {
  const sqs = new SQSClient(localConnection(testEndpoint()));
  const deadline = Date.now() + 60_000;
  for (;;) {
    const { Attributes = {} } = await sqs.send(
      new GetQueueAttributesCommand({
        QueueUrl: intake.queueUrl,
        AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'],
      }),
    );
    if (Number(Attributes.ApproximateNumberOfMessages) + Number(Attributes.ApproximateNumberOfMessagesNotVisible) === 0) return;
    if (Date.now() > deadline) throw new Error(`the intake queue did not drain: ${JSON.stringify(Attributes)}`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

describe('jobstack.enqueue events from the AWS CLI', () => {
  it('enqueue and run a job whose id is derived from the event id', async () => {
    const message = uniqueName('hello');
    const [eventId] = await putEvents(enqueueEntry({ type: 'demo.echo', payload: { message } }));
    const record = await jobs.wait(eventJobId('demo.echo', eventId as string), { timeout: '60s' });
    expect(record).toMatchObject({ state: 'succeeded', type: 'demo.echo', result: { message } });
  });

  it('run once when the same event is put twice with the same jobId, or with the same idempotencyKey', async () => {
    const byId = uniqueName('ev-id');
    const byKey = uniqueName('ev-key');
    const jobId = uniqueName('mine');
    const idEntry = enqueueEntry({ type: 'demo.effect', payload: { key: byId }, jobId });
    const keyEntry = enqueueEntry({ type: 'demo.effect', payload: { key: byKey }, idempotencyKey: byKey });
    const [, firstKeyEvent] = await putEvents(idEntry, keyEntry);
    const [, secondKeyEvent] = await putEvents(idEntry, keyEntry);

    expect(await jobs.wait(jobId, { timeout: '60s' })).toMatchObject({ state: 'succeeded', result: { count: 1 } });
    const keyed = await jobs.wait(eventJobId('demo.effect', firstKeyEvent as string), { timeout: '60s' });
    expect(keyed).toMatchObject({ state: 'succeeded', idempotencyKey: byKey, result: { count: 1 } });
    await intakeDrained();
    // The second event's own id was never used: the key already named the first job.
    expect(await jobs.get(eventJobId('demo.effect', secondKeyEvent as string))).toBeUndefined();
    expect(await ledgerCount(ledger, byId)).toBe(1);
    expect(await ledgerCount(ledger, byKey)).toBe(1);
  });

  it('run once when EventBridge delivers one event twice (the same event id reaches the intake queue twice)', async () => {
    const key = uniqueName('ev-redelivered');
    const body = intakeInputTemplate({ kind: 'enqueue' }).replace(
      '<aws.events.event.json>',
      JSON.stringify({
        version: '0',
        id: uniqueName('event'),
        source: 'integration.tests',
        'detail-type': 'jobstack.enqueue',
        account: '000000000000',
        time: new Date().toISOString(),
        region: 'us-east-1',
        resources: [],
        detail: { type: 'demo.effect', payload: { key } },
      }),
    );
    const sqs = new SQSClient(localConnection(testEndpoint()));
    await sqs.send(new SendMessageCommand({ QueueUrl: intake.queueUrl, MessageBody: body }));
    await sqs.send(new SendMessageCommand({ QueueUrl: intake.queueUrl, MessageBody: body }));
    const eventId = (JSON.parse(body) as { event: { id: string } }).event.id;
    expect(await jobs.wait(eventJobId('demo.effect', eventId), { timeout: '60s' })).toMatchObject({ state: 'succeeded' });
    await intakeDrained();
    expect(await ledgerCount(ledger, key)).toBe(1);
  });

  it('end a payload that fails the schema, or an unknown type, as a dead job with the reason', async () => {
    const [badPayload, unknownType] = await putEvents(
      enqueueEntry({ type: 'demo.echo', payload: { message: 42 } }),
      enqueueEntry({ type: 'demo.nope', payload: {} }),
    );
    const invalid = await jobs.wait(eventJobId('demo.echo', badPayload as string), { timeout: '60s' });
    expect(invalid).toMatchObject({
      state: 'dead',
      attempts: 0,
      payload: { message: 42 },
      error: {
        name: 'InvalidPayloadError',
        message: expect.stringMatching(/invalid payload for job type 'demo\.echo': message:/),
      },
    });
    const unknown = await jobs.wait(eventJobId('demo.nope', unknownType as string), { timeout: '60s' });
    expect(unknown).toMatchObject({
      state: 'dead',
      type: 'demo.nope',
      error: { name: 'UnknownJobTypeError', message: expect.stringMatching(/unknown job type 'demo\.nope'/) },
    });
  });

  it('move an event whose detail names no job type to the intake dead-letter queue with the reason', async () => {
    const marker = uniqueName('no-type');
    await putEvents(enqueueEntry({ payload: { marker } }));
    let found: Awaited<ReturnType<typeof findDeadLetter>>;
    for (let tries = 0; tries < 120 && found === undefined; tries++) {
      found = await findDeadLetter(intake.deadLetterUrl, marker);
      if (found === undefined) await new Promise((resolve) => setTimeout(resolve, 250));
    }
    expect(found).toMatchObject({ errorName: 'UnreadableEventError' });
  });
});

describe('job types started by events', () => {
  it('run demo.greet from a matching CustomerSignedUp event, and end an event without a name as a dead job', async () => {
    const name = uniqueName('Ada');
    const [good, nameless] = await putEvents(
      { Source: 'demo.shop', DetailType: 'CustomerSignedUp', Detail: { name } },
      { Source: 'demo.shop', DetailType: 'CustomerSignedUp', Detail: { email: 'x@example.com' } },
    );
    const greeted = await jobs.wait(eventJobId('demo.greet', good as string), { timeout: '60s' });
    expect(greeted).toMatchObject({ state: 'succeeded', result: { greeting: `Hello, ${name}!` } });
    const refused = await jobs.wait(eventJobId('demo.greet', nameless as string), { timeout: '60s' });
    expect(refused).toMatchObject({
      state: 'dead',
      error: { name: 'InvalidPayloadError', message: expect.stringMatching(/name:/) },
    });
  });
});
