import { Logger } from '@aws-lambda-powertools/logger';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { LambdaClient } from '@aws-sdk/client-lambda';
import { DeleteCommand, DynamoDBDocumentClient, GetCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { describe, expect, it, vi } from 'vitest';
import { reconcilePauses } from '../../functions/sweeper/reconcile-pauses.js';
import { PauseStore } from '../../shared/pause/pause-store.js';
import type { QueuePause } from '../../shared/pause/types.js';

const PAUSED_AT_STACK_TIME = '2026-12-01T01:00:00.000Z';
const logger = new Logger({ serviceName: 'test', logLevel: 'SILENT' });

/** A job table holding `pauses` (by queue), with conditional deletes as DynamoDB evaluates them on these fields. */
function tableWith(pauses: Record<string, Omit<QueuePause, 'queue'>>) {
  const documentClient = DynamoDBDocumentClient.from(new DynamoDBClient({ region: 'us-east-1' }));
  const dynamo = mockClient(documentClient);
  const items = new Map(
    Object.entries(pauses).map(([queue, pause]) => [`queue#${queue}`, { id: `queue#${queue}`, queue, ...pause }]),
  );
  dynamo.on(GetCommand).callsFake((input: { Key: { id: string } }) => {
    const item = items.get(input.Key.id);
    return item ? { Item: item } : {};
  });
  dynamo.on(DeleteCommand).callsFake((input: { Key: { id: string }; ExpressionAttributeValues?: Record<string, string> }) => {
    const item = items.get(input.Key.id);
    const expected = input.ExpressionAttributeValues;
    if (expected && (item?.pausedAt !== expected[':pausedAt'] || item?.stackUpdatedAt !== expected[':stack'])) {
      throw Object.assign(new Error('The conditional request failed'), { name: 'ConditionalCheckFailedException' });
    }
    items.delete(input.Key.id);
    return item ? { Attributes: item } : {};
  });
  return { store: new PauseStore(documentClient, 'jobs'), items, dynamo };
}

function run(
  store: PauseStore,
  stackTime: string,
  options: { states?: Record<string, string>; queues?: Record<string, string[]> } = {},
) {
  const setEnabled = vi.fn(async (_lambda: unknown, _queue: string, uuids: readonly string[], enabled: boolean) =>
    Object.fromEntries(uuids.map((uuid) => [uuid, enabled ? 'Enabling' : 'Disabling'])),
  );
  const stackUpdatedAt = vi.fn(async () => new Date(stackTime));
  const promise = reconcilePauses({
    pauses: store,
    lambda: new LambdaClient({ region: 'us-east-1' }),
    stackUpdatedAt,
    queues: new Map(Object.entries(options.queues ?? { default: ['esm-1'] })),
    logger,
    setEnabled,
    states: async (_lambda, uuids) => Object.fromEntries(uuids.map((uuid) => [uuid, options.states?.[uuid] ?? 'Disabled'])),
  });
  return { promise, setEnabled, stackUpdatedAt };
}

describe('sweeper: pauses and deploys', () => {
  it('resumes a pause without keepOnDeploy once the stack was updated after it (enables, then deletes the item)', async () => {
    const { store, items } = tableWith({
      default: { pausedAt: '2026-12-01T01:05:00.000Z', keepOnDeploy: false, stackUpdatedAt: PAUSED_AT_STACK_TIME },
    });
    const { promise, setEnabled } = run(store, '2026-12-01T02:00:00.000Z');
    expect(await promise).toEqual({ resumed: ['default'], redisabled: [], failed: [], paused: [] });
    expect(setEnabled).toHaveBeenCalledWith(expect.anything(), 'default', ['esm-1'], true);
    expect(items.size).toBe(0);
  });

  it('leaves a pause without keepOnDeploy alone while the stack was not updated after it', async () => {
    const { store, items } = tableWith({
      default: { pausedAt: '2026-12-01T01:05:00.000Z', keepOnDeploy: false, stackUpdatedAt: PAUSED_AT_STACK_TIME },
    });
    const { promise, setEnabled } = run(store, PAUSED_AT_STACK_TIME);
    expect(await promise).toEqual({ resumed: [], redisabled: [], failed: [], paused: ['default'] });
    expect(setEnabled).not.toHaveBeenCalled();
    expect(items.size).toBe(1);
  });

  it('keeps a keepOnDeploy pause across a deploy and disables again the mapping the deploy enabled', async () => {
    const { store, items } = tableWith({
      default: { pausedAt: '2026-12-01T01:05:00.000Z', keepOnDeploy: true, stackUpdatedAt: PAUSED_AT_STACK_TIME },
    });
    const { promise, setEnabled } = run(store, '2026-12-01T02:00:00.000Z', { states: { 'esm-1': 'Enabled' } });
    expect(await promise).toEqual({ resumed: [], redisabled: ['default'], failed: [], paused: ['default'] });
    expect(setEnabled).toHaveBeenCalledWith(expect.anything(), 'default', ['esm-1'], false);
    expect(items.size).toBe(1);
  });

  it('does not touch a keepOnDeploy pause whose mapping is still disabled', async () => {
    const { store } = tableWith({
      default: { pausedAt: '2026-12-01T01:05:00.000Z', keepOnDeploy: true, stackUpdatedAt: PAUSED_AT_STACK_TIME },
    });
    const { promise, setEnabled } = run(store, '2026-12-01T02:00:00.000Z', { states: { 'esm-1': 'Disabled' } });
    expect(await promise).toEqual({ resumed: [], redisabled: [], failed: [], paused: ['default'] });
    expect(setEnabled).not.toHaveBeenCalled();
  });

  it('keeps a pause repeated after its read: the conditional delete fails and the mapping goes back off', async () => {
    const { store, items, dynamo } = tableWith({
      default: { pausedAt: '2026-12-01T01:05:00.000Z', keepOnDeploy: false, stackUpdatedAt: PAUSED_AT_STACK_TIME },
    });
    // Someone pauses again (after the deploy) between the sweeper's read and its delete.
    dynamo.on(DeleteCommand).callsFakeOnce(() => {
      throw Object.assign(new Error('The conditional request failed'), { name: 'ConditionalCheckFailedException' });
    });
    const { promise, setEnabled } = run(store, '2026-12-01T02:00:00.000Z');
    expect(await promise).toEqual({ resumed: [], redisabled: [], failed: [], paused: ['default'] });
    expect(setEnabled.mock.calls.map((call) => call[3])).toEqual([true, false]);
    expect(items.size).toBe(1);
  });

  it('reads no stack time when no queue is paused', async () => {
    const { store } = tableWith({});
    const { promise, stackUpdatedAt } = run(store, '2026-12-01T02:00:00.000Z');
    expect(await promise).toEqual({ resumed: [], redisabled: [], failed: [], paused: [] });
    expect(stackUpdatedAt).not.toHaveBeenCalled();
  });

  it('reports a queue it could not reconcile and goes on with the others', async () => {
    const { store } = tableWith({
      a: { pausedAt: '2026-12-01T01:05:00.000Z', keepOnDeploy: false, stackUpdatedAt: PAUSED_AT_STACK_TIME },
      b: { pausedAt: '2026-12-01T01:05:00.000Z', keepOnDeploy: false, stackUpdatedAt: PAUSED_AT_STACK_TIME },
    });
    const setEnabled = vi.fn(async (_lambda: unknown, queue: string) => {
      if (queue === 'a') throw new Error('ResourceInUseException');
      return {};
    });
    const result = await reconcilePauses({
      pauses: store,
      lambda: new LambdaClient({ region: 'us-east-1' }),
      stackUpdatedAt: async () => new Date('2026-12-01T02:00:00.000Z'),
      queues: new Map([
        ['a', ['esm-a']],
        ['b', ['esm-b']],
      ]),
      logger,
      setEnabled,
    });
    expect(result).toEqual({ resumed: ['b'], redisabled: [], failed: ['a'], paused: ['a'] });
  });
});
