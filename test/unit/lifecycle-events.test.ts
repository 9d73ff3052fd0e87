import { EventBridgeClient, PutEventsCommand, type PutEventsRequestEntry } from '@aws-sdk/client-eventbridge';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { EventEntryTooLargeError, MalformedJobRecordError } from '../../functions/event-publisher/errors.js';
import {
  type LifecycleEntryOptions,
  lifecycleDetailOf,
  lifecycleEntryOf,
  lifecycleEventOf,
  truncateToJsonBytes,
} from '../../functions/event-publisher/lifecycle-entry.js';
import { createStreamPublisher, type PublisherLogger } from '../../functions/event-publisher/publish-changes.js';
import { chunkEntries, entrySizeBytes, PUT_EVENTS_MAX_BYTES, putEntries } from '../../functions/event-publisher/put-entries.js';
import {
  LIFECYCLE_SUMMARY_MAX_BYTES,
  LifecycleDetailType,
  type LifecycleEventDetail,
  type LifecycleEventName,
  lifecycleDetailSchemaOf,
  lifecycleEventIdempotencyKey,
  resolveLifecycleEvents,
} from '../../shared/events/lifecycle-events.js';
import { controlItemId, type JobState } from '../../shared/index.js';
import { jobRecord, jobStreamRecord, streamEvent } from '../helpers/stream-records.js';

const ALL: ReadonlySet<LifecycleEventName> = new Set(['succeeded', 'dead', 'cancelled', 'started', 'retrying']);
const TERMINAL_ONLY: ReadonlySet<LifecycleEventName> = new Set(['succeeded', 'dead', 'cancelled']);
const BUS = 'arn:aws:events:us-east-1:111111111111:event-bus/default';
const options = (events: ReadonlySet<LifecycleEventName> = ALL): LifecycleEntryOptions => ({
  eventBusName: BUS,
  stack: 'jobs-prod',
  events,
});

const transition = (from: JobState | undefined, to: JobState, overrides: Record<string, unknown> = {}) => ({
  eventId: 'e-1',
  from,
  to,
  job: jobRecord({ state: to, ...overrides }),
});

const detailOf = (entry: PutEventsRequestEntry | undefined): LifecycleEventDetail =>
  JSON.parse(entry?.Detail ?? 'null') as LifecycleEventDetail;

const silentLogger = (): PublisherLogger & { errors: unknown[][] } => {
  const errors: unknown[][] = [];
  return { errors, info: () => undefined, error: (...args: unknown[]) => void errors.push(args) };
};

describe('lifecycle events', () => {
  describe('which transitions are events', () => {
    it.each([
      [undefined, 'queued', undefined],
      [undefined, 'scheduled', undefined],
      ['dead', 'queued', undefined],
      ['queued', 'running', 'started'],
      ['scheduled', 'running', 'started'],
      ['retrying', 'running', 'started'],
      ['running', 'running', undefined],
      ['running', 'retrying', 'retrying'],
      ['running', 'succeeded', 'succeeded'],
      ['retrying', 'dead', 'dead'],
      [undefined, 'dead', 'dead'],
      ['queued', 'cancelled', 'cancelled'],
    ] as const)('%s → %s is %s', (from, to, event) => {
      expect(lifecycleEventOf({ from, to })).toBe(event);
    });

    it('publishes started and retrying only when included', () => {
      expect(lifecycleEntryOf(transition('queued', 'running'), options(TERMINAL_ONLY))).toBeUndefined();
      expect(lifecycleEntryOf(transition('running', 'retrying'), options(TERMINAL_ONLY))).toBeUndefined();
      expect(lifecycleEntryOf(transition('running', 'succeeded'), options(TERMINAL_ONLY))).toBeDefined();
    });
  });

  describe('the entry', () => {
    it('a succeeded job: source, detail-type, bus, time and the documented detail', () => {
      const entry = lifecycleEntryOf(
        transition('running', 'succeeded', {
          attempts: 2,
          startedAt: '2026-12-01T10:00:01.000Z',
          finishedAt: '2026-12-01T10:00:03.500Z',
          result: { sent: 3 },
          correlationId: 'req-7',
          batchId: 'batch-1',
          parentId: 'parent-1',
          payload: { secret: 'never in events' },
        }),
        options(),
      );
      expect(entry).toMatchObject({
        EventBusName: BUS,
        Source: 'jobstack',
        DetailType: 'jobstack.job.succeeded',
        Time: new Date('2026-12-01T10:00:03.500Z'),
      });
      expect(detailOf(entry)).toEqual({
        stack: 'jobs-prod',
        jobId: 'job-1',
        type: 'email.send',
        queue: 'default',
        state: 'succeeded',
        attempts: 2,
        maxAttempts: 3,
        createdAt: '2026-12-01T10:00:00.000Z',
        startedAt: '2026-12-01T10:00:01.000Z',
        finishedAt: '2026-12-01T10:00:03.500Z',
        durationMs: 2500,
        result: { sent: 3 },
        correlationId: 'req-7',
        batchId: 'batch-1',
        parentId: 'parent-1',
      });
    });

    it('a dead job carries its error without the stack; a retrying one its next attempt time', () => {
      const error = { name: 'TypeError', message: 'boom', stack: 'at x (y.js:1)', retryable: true };
      const dead = detailOf(lifecycleEntryOf(transition('running', 'dead', { error, attempts: 3 }), options()));
      expect(dead).toMatchObject({ state: 'dead', error: { name: 'TypeError', message: 'boom', retryable: true } });
      expect(JSON.stringify(dead)).not.toContain('y.js');
      const retrying = detailOf(
        lifecycleEntryOf(transition('running', 'retrying', { error, nextAttemptAt: '2026-12-01T10:01:00.000Z' }), options()),
      );
      expect(retrying).toMatchObject({
        state: 'retrying',
        nextAttemptAt: '2026-12-01T10:01:00.000Z',
        error: { name: 'TypeError' },
      });
    });

    it('reads batchId and parentId defensively: a value that is not a string is left out', () => {
      const detail = detailOf(lifecycleEntryOf(transition('running', 'succeeded', { batchId: 7, parentId: null }), options()));
      expect(detail).not.toHaveProperty('batchId');
      expect(detail).not.toHaveProperty('parentId');
    });

    it('every detail fits the schema of its detail-type', () => {
      const cases: [JobState | undefined, JobState, LifecycleEventName][] = [
        ['running', 'succeeded', 'succeeded'],
        ['running', 'dead', 'dead'],
        ['queued', 'cancelled', 'cancelled'],
        ['queued', 'running', 'started'],
        ['running', 'retrying', 'retrying'],
      ];
      for (const [from, to, event] of cases) {
        const entry = lifecycleEntryOf(transition(from, to, { error: { name: 'E', message: 'm', retryable: true } }), options());
        expect(entry?.DetailType).toBe(LifecycleDetailType[event]);
        expect(lifecycleDetailSchemaOf(event).safeParse(detailOf(entry)).success).toBe(true);
      }
    });

    it('fails with MalformedJobRecordError, naming the field, on a record without what the detail needs', () => {
      const broken = transition('running', 'succeeded', { type: undefined, attempts: 'two' as never });
      expect(() => lifecycleEntryOf(broken, options())).toThrow(MalformedJobRecordError);
      expect(() => lifecycleEntryOf(broken, options())).toThrow(/job record "job-1" .*type: .*attempts: /);
    });
  });

  describe('size capping', () => {
    it('leaves out a result over 8 KB, says truncated and gives its size', () => {
      const result = { text: 'x'.repeat(LIFECYCLE_SUMMARY_MAX_BYTES) };
      const detail = lifecycleDetailOf(jobRecord({ state: 'succeeded', result }), 'jobs-prod');
      expect(detail).not.toHaveProperty('result');
      expect(detail).toMatchObject({ truncated: true, resultBytes: Buffer.byteLength(JSON.stringify(result)) });
    });

    it('keeps a result of exactly 8 KB', () => {
      const text = 'y'.repeat(LIFECYCLE_SUMMARY_MAX_BYTES - 2);
      const detail = lifecycleDetailOf(jobRecord({ state: 'succeeded', result: text }), 'jobs-prod');
      expect(detail.result).toBe(text);
      expect(detail).not.toHaveProperty('truncated');
    });

    it('cuts an error message so the serialized error is at most 8 KB, on whole characters', () => {
      const message = `${'é'.repeat(5_000)}"\n${'€'.repeat(5_000)}`;
      const detail = lifecycleDetailOf(
        jobRecord({ state: 'dead', error: { name: 'Error', message, retryable: false } }),
        'jobs-prod',
      );
      expect(detail.truncated).toBe(true);
      const bytes = Buffer.byteLength(JSON.stringify(detail.error));
      expect(bytes).toBeLessThanOrEqual(LIFECYCLE_SUMMARY_MAX_BYTES);
      expect(bytes).toBeGreaterThan(LIFECYCLE_SUMMARY_MAX_BYTES - 4);
      expect(message.startsWith(detail.error?.message ?? '-')).toBe(true);
    });

    it('truncateToJsonBytes counts JSON escapes and never splits a code point', () => {
      expect(truncateToJsonBytes('ab"c', 3)).toBe('ab');
      expect(truncateToJsonBytes('ab"c', 4)).toBe('ab"');
      expect(truncateToJsonBytes('a😀b', 4)).toBe('a');
      expect(truncateToJsonBytes('a😀b', 5)).toBe('a😀');
      expect(truncateToJsonBytes('short', 100)).toBe('short');
    });

    it('an entry is as large as EventBridge counts it', () => {
      const entry = { Source: 'jobstack', DetailType: 'jobstack.job.dead', Detail: '{"a":"é"}', Time: new Date() };
      expect(entrySizeBytes(entry)).toBe(14 + 8 + 17 + 10);
    });
  });

  describe('batching PutEvents', () => {
    const entry = (bytes: number): PutEventsRequestEntry => ({
      Source: 'jobstack',
      DetailType: 'jobstack.job.succeeded',
      Detail: JSON.stringify({ pad: 'p'.repeat(bytes) }),
    });

    it('sends at most 10 entries per request', () => {
      expect(chunkEntries(Array.from({ length: 25 }, () => entry(10))).map((chunk) => chunk.length)).toEqual([10, 10, 5]);
    });

    it('starts a new request before the entries would pass 256 KB', () => {
      const chunks = chunkEntries(Array.from({ length: 10 }, () => entry(60_000)));
      expect(chunks.map((chunk) => chunk.length)).toEqual([4, 4, 2]);
      for (const chunk of chunks) {
        expect(chunk.reduce((sum, each) => sum + entrySizeBytes(each), 0)).toBeLessThanOrEqual(PUT_EVENTS_MAX_BYTES);
      }
    });

    it('fails with EventEntryTooLargeError on one entry over 256 KB', () => {
      expect(() => chunkEntries([entry(PUT_EVENTS_MAX_BYTES)])).toThrow(EventEntryTooLargeError);
    });
  });

  describe('partial failures', () => {
    const eventBridge = mockClient(EventBridgeClient);
    const client = new EventBridgeClient({ region: 'us-east-1' });
    const noSleep = async () => undefined;
    const entries = Array.from({ length: 4 }, (_, index) => ({
      Source: 'jobstack',
      DetailType: 'jobstack.job.succeeded',
      Detail: JSON.stringify({ index }),
    }));

    beforeEach(() => eventBridge.reset());

    it('re-sends only the entries that failed', async () => {
      eventBridge
        .on(PutEventsCommand)
        .resolvesOnce({
          FailedEntryCount: 2,
          Entries: [
            { EventId: 'a' },
            { ErrorCode: 'ThrottlingException', ErrorMessage: 'slow down' },
            { EventId: 'c' },
            { ErrorCode: 'InternalFailure' },
          ],
        })
        .resolvesOnce({ FailedEntryCount: 0, Entries: [{ EventId: 'b' }, { EventId: 'd' }] });
      const result = await putEntries(client, entries, { sleep: noSleep });
      expect(result).toEqual({ failed: [], requests: 2 });
      expect(eventBridge).toHaveReceivedCommandTimes(PutEventsCommand, 2);
      expect(eventBridge).toHaveReceivedNthCommandWith(PutEventsCommand, 2, {
        Entries: [entries[1], entries[3]] as PutEventsRequestEntry[],
      });
    });

    it('returns what still fails after the last attempt, with its index and error', async () => {
      eventBridge.on(PutEventsCommand).callsFake((input: { Entries: PutEventsRequestEntry[] }) => ({
        FailedEntryCount: 1,
        Entries: input.Entries.map((each) =>
          each.Detail === entries[2]?.Detail ? { ErrorCode: 'InternalFailure', ErrorMessage: 'try later' } : { EventId: 'ok' },
        ),
      }));
      const result = await putEntries(client, entries, { sleep: noSleep, maxAttempts: 3 });
      expect(result.failed).toEqual([{ index: 2, errorCode: 'InternalFailure', errorMessage: 'try later' }]);
      expect(eventBridge).toHaveReceivedCommandTimes(PutEventsCommand, 3);
      expect(eventBridge).toHaveReceivedNthCommandWith(PutEventsCommand, 3, { Entries: [entries[2]] as PutEventsRequestEntry[] });
    });

    it('re-sends every entry of a request that failed as a whole', async () => {
      eventBridge
        .on(PutEventsCommand)
        .rejectsOnce(Object.assign(new Error('socket hang up'), { name: 'TimeoutError' }))
        .resolves({ FailedEntryCount: 0, Entries: entries.map(() => ({ EventId: 'ok' })) });
      expect(await putEntries(client, entries, { sleep: noSleep })).toEqual({ failed: [], requests: 2 });
      expect(eventBridge).toHaveReceivedNthCommandWith(PutEventsCommand, 2, { Entries: entries });
    });
  });

  describe('the stream publisher', () => {
    const eventBridge = mockClient(EventBridgeClient);
    beforeEach(() => {
      eventBridge.reset();
      eventBridge.on(PutEventsCommand).callsFake((input: { Entries: PutEventsRequestEntry[] }) => ({
        FailedEntryCount: 0,
        Entries: input.Entries.map(() => ({ EventId: 'ok' })),
      }));
    });
    const publisher = (logger = silentLogger()) =>
      createStreamPublisher({
        client: new EventBridgeClient({ region: 'us-east-1' }),
        entries: options(TERMINAL_ONLY),
        logger,
        put: { sleep: async () => undefined },
      });
    const sent = (): PutEventsRequestEntry[] =>
      eventBridge.commandCalls(PutEventsCommand).flatMap((call) => call.args[0].input.Entries ?? []);

    it('publishes the published transitions of a batch and skips the rest (progress, queued, control items, deletions)', async () => {
      const running = jobRecord({ state: 'running', attempts: 1 });
      const response = await publisher()(
        streamEvent(
          jobStreamRecord(undefined, jobRecord({ id: 'a' })),
          jobStreamRecord(running, { ...running, progress: { percent: 50 } }),
          jobStreamRecord(running, { ...running, state: 'succeeded', finishedAt: '2026-12-01T10:00:05.000Z' }),
          jobStreamRecord(undefined, { id: controlItemId('concurrency', 'email.send', 't-1'), version: 1 }),
          jobStreamRecord(jobRecord({ state: 'succeeded' }), undefined),
          jobStreamRecord(jobRecord({ id: 'b', state: 'retrying' }), jobRecord({ id: 'b', state: 'dead', attempts: 3 })),
        ),
      );
      expect(response).toEqual({ batchItemFailures: [] });
      expect(sent().map((entry) => [entry.DetailType, detailOf(entry).jobId])).toEqual([
        ['jobstack.job.succeeded', 'job-1'],
        ['jobstack.job.dead', 'b'],
      ]);
    });

    it('publishes 25 events in three requests', async () => {
      const records = Array.from({ length: 25 }, (_, index) =>
        jobStreamRecord(jobRecord({ id: `j-${index}`, state: 'running' }), jobRecord({ id: `j-${index}`, state: 'succeeded' })),
      );
      await publisher()(streamEvent(...records));
      expect(eventBridge.commandCalls(PutEventsCommand).map((call) => call.args[0].input.Entries?.length)).toEqual([10, 10, 5]);
    });

    it('reports a malformed record and a refused entry by sequence number, in stream order, and publishes the others', async () => {
      eventBridge.on(PutEventsCommand).callsFake((input: { Entries: PutEventsRequestEntry[] }) => ({
        FailedEntryCount: 1,
        Entries: input.Entries.map((entry) =>
          detailOf(entry).jobId === 'refused' ? { ErrorCode: 'InternalFailure' } : { EventId: 'ok' },
        ),
      }));
      const logger = silentLogger();
      const good = jobStreamRecord(jobRecord({ id: 'good', state: 'running' }), jobRecord({ id: 'good', state: 'succeeded' }));
      const refused = jobStreamRecord(
        jobRecord({ id: 'refused', state: 'running' }),
        jobRecord({ id: 'refused', state: 'succeeded' }),
      );
      const malformed = jobStreamRecord(
        jobRecord({ id: 'bad', state: 'running' }),
        jobRecord({ id: 'bad', state: 'succeeded', maxAttempts: 'many' as never }),
      );
      const response = await publisher(logger)(streamEvent(good, refused, malformed));
      expect(response.batchItemFailures).toEqual([
        { itemIdentifier: refused.dynamodb?.SequenceNumber },
        { itemIdentifier: malformed.dynamodb?.SequenceNumber },
      ]);
      expect(sent().filter((entry) => detailOf(entry).jobId === 'good')).toHaveLength(1);
      expect(logger.errors.map(([message]) => message)).toEqual([
        'stream record cannot become a lifecycle event',
        'EventBridge refused a lifecycle event',
      ]);
    });

    it('a stream record delivered twice publishes the same event, with the same idempotency key', async () => {
      const record = jobStreamRecord(
        jobRecord({ state: 'running', attempts: 2 }),
        jobRecord({ state: 'dead', attempts: 2, finishedAt: '2026-12-01T10:00:09.000Z' }),
      );
      await publisher()(streamEvent(record));
      await publisher()(streamEvent(structuredClone(record)));
      const [first, second] = sent();
      expect(second).toEqual(first);
      const keys = sent().map((entry) => lifecycleEventIdempotencyKey(detailOf(entry)));
      expect(keys).toEqual(['job-1:dead:2', 'job-1:dead:2']);
    });

    it('a later run of the same job has another key', () => {
      expect(lifecycleEventIdempotencyKey({ jobId: 'job-1', state: 'dead', attempts: 3 })).not.toBe(
        lifecycleEventIdempotencyKey({ jobId: 'job-1', state: 'dead', attempts: 6 }),
      );
    });
  });

  describe('the option', () => {
    it('resolves off, on and the optional events in a fixed order', () => {
      expect(resolveLifecycleEvents(undefined)).toBeUndefined();
      expect(resolveLifecycleEvents(false)).toBeUndefined();
      expect(resolveLifecycleEvents(true)).toEqual(['succeeded', 'dead', 'cancelled']);
      expect(resolveLifecycleEvents({})).toEqual(['succeeded', 'dead', 'cancelled']);
      expect(resolveLifecycleEvents({ include: ['retrying', 'started'] })).toEqual([
        'succeeded',
        'dead',
        'cancelled',
        'started',
        'retrying',
      ]);
    });
  });
});
