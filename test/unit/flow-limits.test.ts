import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import {
  defineJob,
  defineJobContract,
  defineLongJobContract,
  defineRegistry,
  FlowKeyError,
  flowKeyOf,
  planQueues,
  WHOLE_TYPE_KEY,
} from '../../shared/index.js';
import { envelopeBody, lambdaContext, sqsRecord } from '../helpers/events.js';
import { workerHarness } from '../helpers/worker-harness.js';

const schema = z.object({ tenant: z.string() });

describe('concurrency and rateLimit options', () => {
  it('refuse ordering on the same job type, and a FIFO queue carrying a limited job type', () => {
    const key = (payload: { tenant: string }) => payload.tenant;
    expect(() => defineJobContract({ name: 'flow.ordered', schema, ordering: { key }, concurrency: { key, limit: 2 } })).toThrow(
      /job 'flow\.ordered': ordering cannot be combined with concurrency or rateLimit \(given both\)/,
    );
    const registry = defineRegistry(
      defineJobContract({ name: 'flow.in-order', schema, queue: 'mixed', ordering: { key } }),
      defineJobContract({ name: 'flow.limited', schema, queue: 'mixed', rateLimit: { limit: 5, per: '1s' } }),
    );
    expect(() => planQueues(registry)).toThrow(
      /queue 'mixed' is a FIFO queue \(ordering on 'flow\.in-order'\) and cannot carry job types with concurrency or rate limits \(given 'flow\.limited'\)/,
    );
  });

  it('resolves both, with the period in milliseconds', () => {
    const key = (payload: { tenant: string }) => payload.tenant;
    const contract = defineJobContract({
      name: 'flow.ok',
      schema,
      concurrency: { key, limit: 2 },
      rateLimit: { limit: 100, per: '1m' },
    });
    expect(contract.concurrency).toEqual({ key, limit: 2 });
    expect(contract.rateLimit).toEqual({ limit: 100, perMs: 60_000 });
    expect(defineJobContract({ name: 'flow.none', schema })).not.toHaveProperty('concurrency');
  });

  it.each([
    [{ concurrency: { limit: 0 } }, /job 'flow\.bad': concurrency\.limit must be an integer 1\.\.1000 \(given 0\)/],
    [{ concurrency: { limit: 1001 } }, /concurrency\.limit must be an integer 1\.\.1000 \(given 1001\)/],
    [{ concurrency: { limit: 1.5 } }, /concurrency\.limit must be an integer 1\.\.1000 \(given 1\.5\)/],
    [{ concurrency: { limit: '2' } }, /concurrency\.limit must be an integer 1\.\.1000 \(given "2"\)/],
    [{ concurrency: 2 }, /concurrency must be an object such as \{ limit: 2 \} \(given 2\)/],
    [{ concurrency: { limit: 2, key: 'tenant' } }, /concurrency\.key must be a function of the payload \(given string\)/],
    [{ rateLimit: { limit: 0, per: '1s' } }, /rateLimit\.limit must be an integer 1\.\.1000 \(given 0\)/],
    [{ rateLimit: { limit: 5, per: '500ms' } }, /rateLimit\.per must be 1s\.\.24h \(given "500ms", 500 ms\)/],
    [{ rateLimit: { limit: 5, per: '25h' } }, /rateLimit\.per must be 1s\.\.24h \(given "25h", 90000000 ms\)/],
    [{ rateLimit: { limit: 5, per: 'soon' } }, /rateLimit\.per must be a duration of 1s\.\.24h \(given "soon"\)/],
    [{ rateLimit: { limit: 5 } }, /rateLimit\.per must be a duration of 1s\.\.24h \(given undefined\)/],
  ])('fails for %j with a RangeError quoting the value', (options, message) => {
    expect(() => defineJobContract({ name: 'flow.bad', schema, ...(options as object) })).toThrow(RangeError);
    expect(() => defineJobContract({ name: 'flow.bad', schema, ...(options as object) })).toThrow(message);
  });

  it('fails on a long job: its steps run on Step Functions, outside the worker gate', () => {
    const input = { name: 'flow.long', schema, concurrency: { limit: 1 } } as Parameters<typeof defineLongJobContract>[0];
    expect(() => defineLongJobContract(input)).toThrow(/long job 'flow\.long': concurrency is not supported on long jobs/);
  });
});

describe('flowKeyOf', () => {
  const context = { jobId: 'job-1', jobType: 'flow.key' };

  it('is the key function answer, or one key for the whole type without one', () => {
    expect(flowKeyOf('concurrency', { key: (p: { tenant: string }) => p.tenant }, { tenant: 't-1' }, context)).toBe('t-1');
    expect(flowKeyOf('rateLimit', {}, { tenant: 't-1' }, context)).toBe(WHOLE_TYPE_KEY);
  });

  it('fails with FlowKeyError naming the job type and the value', () => {
    const error = (() => {
      try {
        flowKeyOf('rateLimit', { key: () => ({ tenant: 1 }) as unknown as string }, {}, context);
      } catch (thrown) {
        return thrown;
      }
    })();
    expect(error).toBeInstanceOf(FlowKeyError);
    expect(error).toMatchObject({ name: 'FlowKeyError', jobId: 'job-1', jobType: 'flow.key' });
    expect((error as Error).message).toBe(
      `job type 'flow.key': rateLimit.key returned object {"tenant":1}; a key is a string of 1..128 characters`,
    );
  });
});

describe('a job type without limits', () => {
  it('costs exactly what it cost before flow control: the claim and the success write, no other request', async () => {
    const registry = defineRegistry(defineJob({ name: 'flow.plain', schema, handler: async () => ({ ok: true }) }));
    const { processRecord, dynamo, sqs } = workerHarness(registry);
    await processRecord(sqsRecord(envelopeBody('flow.plain', { tenant: 't' }, 'job-plain')), lambdaContext());
    expect(dynamo.calls().map((call) => call.args[0].constructor.name)).toEqual(['UpdateCommand', 'UpdateCommand']);
    expect(sqs.calls()).toHaveLength(0);
  });

  it('a job type with a limit makes its flow-store requests before the claim', async () => {
    const registry = defineRegistry(
      defineJob({ name: 'flow.limited', schema, concurrency: { limit: 1 }, handler: async () => ({ ok: true }) }),
    );
    const { processRecord, dynamo } = workerHarness(registry);
    await processRecord(sqsRecord(envelopeBody('flow.limited', { tenant: 't' }, 'job-limited')), lambdaContext());
    // Slot read (no item yet), slot create, claim, success, release.
    expect(dynamo.calls().map((call) => call.args[0].constructor.name)).toEqual([
      'GetCommand',
      'PutCommand',
      'UpdateCommand',
      'UpdateCommand',
      'UpdateCommand',
    ]);
  });
});
