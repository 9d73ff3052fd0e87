import { describe, expect, it } from 'vitest';
import * as z from 'zod';
import { defineJob, defineJobContract } from '../../shared/job-definition.js';
import { InvalidTriggerError, TriggerMappingError } from '../../shared/triggers/errors.js';
import { eventJobId, eventPatternOf, type JobTriggerEvent, mapTriggerEvent } from '../../shared/triggers/trigger.js';

const schema = z.object({ orderId: z.string() });

function event(overrides: Partial<JobTriggerEvent> = {}): JobTriggerEvent {
  return {
    version: '0',
    id: '6a7e8feb-b491-4cf7-a9f1-bf3703467718',
    'detail-type': 'OrderPlaced',
    source: 'shop.orders',
    account: '000000000000',
    time: '2026-12-01T05:00:00Z',
    region: 'us-east-1',
    resources: [],
    detail: { id: 'o-1' },
    ...overrides,
  };
}

describe('defineJob trigger option', () => {
  it('keeps a checked trigger on the contract and renders its event pattern', () => {
    const job = defineJob({
      name: 'orders.ship',
      schema,
      trigger: {
        source: 'shop.orders',
        detailType: ['OrderPlaced', 'OrderPaid'],
        pattern: { detail: { total: [{ numeric: ['>', 0] }] } },
        payload: (e) => ({ orderId: (e.detail as { id: string }).id }),
      },
      handler: async () => undefined,
    });
    expect(job.trigger?.sources).toEqual(['shop.orders']);
    expect(eventPatternOf(job.trigger as NonNullable<typeof job.trigger>)).toEqual({
      detail: { total: [{ numeric: ['>', 0] }] },
      source: ['shop.orders'],
      'detail-type': ['OrderPlaced', 'OrderPaid'],
    });
  });

  it.each([
    [
      'an empty source',
      { source: '', detailType: 'X', payload: () => ({}) },
      /source values must be strings of 1\.\.256 characters \(given ""\)/,
    ],
    [
      'no detail type',
      { source: 's', detailType: [], payload: () => ({}) },
      /detailType must be a string or a non-empty array of strings \(given \[\]\)/,
    ],
    [
      'a payload that is not a function',
      { source: 's', detailType: 'X', payload: { orderId: 'x' } },
      /payload must be a function of the event \(given object\)/,
    ],
    [
      'a pattern naming source',
      { source: 's', detailType: 'X', pattern: { source: ['t'] }, payload: () => ({}) },
      /pattern must not hold source \(given \{"source":\["t"\]\}\)/,
    ],
    [
      'a pattern that is an array',
      { source: 's', detailType: 'X', pattern: ['x'], payload: () => ({}) },
      /pattern must be an object \(given \["x"\]\)/,
    ],
    [
      'a pattern over 4096 characters',
      { source: 's', detailType: 'X', pattern: { detail: { k: ['x'.repeat(5_000)] } }, payload: () => ({}) },
      /over EventBridge's 4096/,
    ],
  ])('fails if given %s, naming the job and quoting the value', (_label, trigger, message) => {
    const define = () => defineJobContract({ name: 'orders.ship', schema, trigger: trigger as never });
    expect(define).toThrow(InvalidTriggerError);
    expect(define).toThrow(/job 'orders\.ship': trigger/);
    expect(define).toThrow(message);
  });
});

describe('eventJobId', () => {
  it('is the same for every delivery of an event and different per job type', () => {
    expect(eventJobId('orders.ship', 'abc-1')).toBe('ev:orders.ship:abc-1');
    expect(eventJobId('orders.ship', 'abc-1')).toBe(eventJobId('orders.ship', 'abc-1'));
    expect(eventJobId('orders.bill', 'abc-1')).not.toBe(eventJobId('orders.ship', 'abc-1'));
  });

  it('hashes ids that would not be valid job ids (too long, or characters outside the job id alphabet)', () => {
    const long = eventJobId('t'.repeat(128), 'abc-1');
    expect(long).toMatch(/^ev:[0-9a-f]{64}$/);
    expect(eventJobId('t', 'a/b')).toMatch(/^ev:[0-9a-f]{64}$/);
    expect(eventJobId('t', 'a/b')).not.toBe(eventJobId('t', 'a/c'));
  });
});

describe('mapTriggerEvent', () => {
  const trigger = (payload: (e: JobTriggerEvent) => unknown) =>
    defineJobContract({ name: 'orders.ship', schema, trigger: { source: 's', detailType: 'X', payload: payload as never } })
      .trigger as NonNullable<ReturnType<typeof defineJobContract>['trigger']>;

  it('returns the mapped payload in its JSON form', () => {
    const at = new Date('2026-12-01T00:00:00Z');
    expect(
      mapTriggerEvent(
        'orders.ship',
        'j',
        trigger((e) => ({ orderId: (e.detail as { id: string }).id, at })),
        event(),
      ),
    ).toEqual({
      orderId: 'o-1',
      at: '2026-12-01T00:00:00.000Z',
    });
  });

  it.each([
    [
      'throws',
      () => {
        throw new Error('no id');
      },
      /failed on event 6a7e8feb-b491-4cf7-a9f1-bf3703467718: no id/,
    ],
    ['returns undefined', () => undefined, /returned undefined, not a JSON value/],
    ['returns a Promise', async () => ({}), /returned a Promise/],
    ['returns a BigInt', () => ({ n: 10n }), /BigInt|bigint/i],
  ])('fails with TriggerMappingError when the function %s', (_label, payload, message) => {
    const map = () => mapTriggerEvent('orders.ship', 'j-1', trigger(payload), event());
    expect(map).toThrow(TriggerMappingError);
    expect(map).toThrow(message);
  });
});
