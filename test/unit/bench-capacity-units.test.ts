import { marshall } from '@aws-sdk/util-dynamodb';
import { describe, expect, it } from 'vitest';
import {
  attributeValueSize,
  type IndexShape,
  indexWrites,
  itemSize,
  readUnits,
  tableWriteUnits,
} from '../../bench/lib/dynamodb-units.js';
import { EXPRESS_GB_SECONDS, EXPRESS_REQUESTS, expressBilledGbSeconds, perJobCost } from '../../bench/lib/prices.js';
import type { RequestCharge } from '../../bench/lib/request-meter.js';
import { quantile } from '../../bench/lib/stats.js';

const attention: IndexShape = {
  name: 'byAttentionState',
  keyAttributes: ['attentionState', 'updatedAt'],
  tableKeyAttributes: ['id'],
  projection: { type: 'ALL' },
};

const item = (value: Record<string, unknown>) => marshall(value, { removeUndefinedValues: true });

describe('DynamoDB item size', () => {
  it('counts strings in UTF-8 bytes and attribute names too', () => {
    expect(itemSize(item({ id: 'abc' }))).toBe(2 + 3);
    expect(itemSize(item({ name: 'é' }))).toBe(4 + 2);
  });

  it('sizes numbers by significant digits: ⌈digits/2⌉ + 1', () => {
    expect(attributeValueSize({ N: '7' })).toBe(2);
    expect(attributeValueSize({ N: '1234' })).toBe(3);
    expect(attributeValueSize({ N: '12345' })).toBe(4);
    expect(attributeValueSize({ N: '1000' })).toBe(2); // trailing zeros are not significant
    expect(attributeValueSize({ N: '-0.00125' })).toBe(3);
  });

  it('adds 3 bytes per list or map plus 1 per element', () => {
    expect(attributeValueSize({ L: [{ S: 'ab' }, { BOOL: true }] })).toBe(3 + (1 + 2) + (1 + 1));
    expect(attributeValueSize({ M: { k: { NULL: true } } })).toBe(3 + 1 + 1 + 1);
    expect(attributeValueSize({ M: {} })).toBe(3);
  });
});

describe('write and read units', () => {
  it('charges 1 unit per started KB of the larger image, at least 1', () => {
    expect(tableWriteUnits(undefined, item({ id: 'x' }))).toBe(1);
    const big = item({ id: 'x', blob: 'a'.repeat(1_100) });
    expect(tableWriteUnits(item({ id: 'x' }), big)).toBe(2);
    expect(tableWriteUnits(big, item({ id: 'x' }))).toBe(2);
    // 'id' + 'x' is 3 bytes, 'b' 1 byte: 1,020 more make exactly 1 KB.
    expect(tableWriteUnits(item({ id: 'x', b: 'a'.repeat(1_020) }), undefined)).toBe(1);
    expect(tableWriteUnits(item({ id: 'x', b: 'a'.repeat(1_021) }), undefined)).toBe(2);
  });

  it('charges reads per started 4 KB, half when eventually consistent', () => {
    expect(readUnits(0, true)).toBe(1);
    expect(readUnits(4_096, true)).toBe(1);
    expect(readUnits(4_097, true)).toBe(2);
    expect(readUnits(4_097, false)).toBe(1);
  });
});

describe('sparse index writes', () => {
  const queued = item({ id: 'j', state: 'queued', updatedAt: 't1' });
  const running = item({ id: 'j', state: 'running', updatedAt: 't2' });
  const retrying = item({ id: 'j', state: 'retrying', attentionState: 'retrying', updatedAt: 't3' });
  const dead = item({ id: 'j', state: 'dead', attentionState: 'dead', updatedAt: 't4' });

  it('costs nothing for items that never carry the index key', () => {
    expect(indexWrites(attention, undefined, queued)).toEqual([]);
    expect(indexWrites(attention, queued, running)).toEqual([]);
  });

  it('costs one put when an item enters the index and one delete when it leaves', () => {
    expect(indexWrites(attention, running, retrying)).toEqual([{ index: 'byAttentionState', kind: 'put', units: 1 }]);
    expect(indexWrites(attention, retrying, running)).toEqual([{ index: 'byAttentionState', kind: 'delete', units: 1 }]);
  });

  it('costs a delete and a put when the index key changes', () => {
    expect(indexWrites(attention, retrying, dead).map((w) => w.kind)).toEqual(['delete', 'put']);
  });

  it('costs one update when a projected attribute changes, nothing when nothing does', () => {
    const touched = item({ id: 'j', state: 'dead', attentionState: 'dead', updatedAt: 't4', note: 'x' });
    expect(indexWrites(attention, dead, touched)).toEqual([{ index: 'byAttentionState', kind: 'update', units: 1 }]);
    expect(indexWrites(attention, dead, dead)).toEqual([]);
    const keysOnly: IndexShape = { ...attention, projection: { type: 'KEYS_ONLY' } };
    expect(indexWrites(keysOnly, dead, touched)).toEqual([]);
  });
});

describe('price per job', () => {
  const charge = (partial: Partial<RequestCharge>): RequestCharge => ({
    service: 'SQS',
    operation: 'SendMessage',
    calls: 1,
    billedRequests: 0,
    writeUnits: 0,
    indexWriteUnits: 0,
    readUnits: 0,
    modelled: false,
    ...partial,
  });

  it('prices a plain job: 1.2 SQS requests, 0.1 invocations, 3 write units = $2.375 per million', () => {
    const charges = [
      charge({ service: 'SQS', billedRequests: 10 }),
      charge({ service: 'SQS', billedRequests: 2, modelled: true }),
      charge({ service: 'Lambda', operation: 'Invoke', billedRequests: 1, modelled: true }),
      charge({ service: 'DynamoDB', operation: 'PutItem', writeUnits: 30 }),
    ];
    const cost = perJobCost(charges, 10);
    expect(cost.sqsRequests).toBeCloseTo(1.2);
    expect(cost.dynamoWriteUnits).toBe(3);
    expect(cost.dollarsPerMillion).toBeCloseTo(1.2 * 0.4 + 0.1 * 0.2 + 3 * 0.625);
  });

  it('prices S3 at its list prices: PUT $0.005 and GET $0.0004 per 1,000 requests', () => {
    const charges = [
      charge({ service: 'S3', operation: 'PutObject', billedRequests: 1 }),
      charge({ service: 'S3', operation: 'GetObject', billedRequests: 1 }),
      charge({ service: 'S3', operation: 'GetObject', billedRequests: 1 }),
    ];
    const cost = perJobCost(charges, 1);
    expect([cost.s3PutRequests, cost.s3GetRequests]).toEqual([1, 2]);
    expect(cost.dollarsPerMillion).toBeCloseTo(5 + 2 * 0.4);
  });

  it('fails for a job count that is not positive', () => {
    expect(() => perJobCost([], 0)).toThrow(/jobs must be positive \(given 0\)/);
  });

  it('bills Express duration in 100 ms and 64 MB steps: 230 ms at 64 MB is 0.3 s × 1/16 GB', () => {
    expect(expressBilledGbSeconds(230)).toBeCloseTo(0.3 / 16);
    expect(expressBilledGbSeconds(0)).toBeCloseTo(0.1 / 16);
    expect(expressBilledGbSeconds(100, 65)).toBeCloseTo(0.1 * (128 / 1024));
    expect(() => expressBilledGbSeconds(-1)).toThrow(RangeError);
  });

  it('prices an Express execution at $1 per million requests plus $0.00001667 per GB-second, no transitions', () => {
    const charges = [
      charge({ service: EXPRESS_REQUESTS, operation: 'Request', billedRequests: 10, modelled: true }),
      charge({ service: EXPRESS_GB_SECONDS, operation: 'Duration', billedRequests: 10 * expressBilledGbSeconds(230) }),
    ];
    const cost = perJobCost(charges, 10);
    expect(cost.stepFunctionsTransitions).toBe(0);
    expect(cost.stepFunctionsExpressRequests).toBe(1);
    // $1.00 + 0.01875 GB-s × $0.00001667 × 1e6 = $1.31 per million jobs.
    expect(cost.dollarsPerMillion).toBeCloseTo(1 + (0.3 / 16) * 16.67, 4);
  });
});

describe('quantile', () => {
  it('takes the nearest rank', () => {
    const values = [5, 1, 4, 2, 3];
    expect(quantile(values, 0.5)).toBe(3);
    expect(quantile(values, 0.99)).toBe(5);
    expect(quantile(values, 0)).toBe(1);
  });
});
