import { describe, expect, it } from 'vitest';
import {
  allOf,
  anyOf,
  claimCondition,
  fromSourcesOf,
  IllegalTransitionError,
  ownedByAttempt,
  stateIn,
  term,
  transitionFrom,
  unchangedSince,
  withCondition,
} from '../../shared/index.js';
import { claimedRecord } from '../helpers/events.js';

const NOW = Date.parse('2026-11-23T12:00:00Z');

describe('conditions derived from the state table', () => {
  it('lists the sources of a target in the table', () => {
    expect(fromSourcesOf('dead')).toMatchObject({
      expression: '#state IN (:queued, :scheduled, :running, :retrying)',
      names: { '#state': 'state' },
      values: { ':queued': 'queued', ':scheduled': 'scheduled', ':running': 'running', ':retrying': 'retrying' },
    });
    expect(fromSourcesOf('cancelled', { except: ['running'] }).expression).toBe(
      '#state IN (:scheduled, :queued, :retrying, :waiting)',
    );
  });

  it('refuses to build a write for a transition the table forbids', () => {
    expect(() => transitionFrom('succeeded', 'running')).toThrow(IllegalTransitionError);
    expect(() => ownedByAttempt(1, 'queued')).toThrow(IllegalTransitionError);
  });

  it('fences a run by its attempt', () => {
    expect(ownedByAttempt(2, 'succeeded')).toMatchObject({
      expression: '#state = :running AND attempts = :attempt',
      values: { ':running': 'running', ':attempt': 2 },
    });
  });

  it('claims a missing, waiting, lease-expired or backoff-passed job only', () => {
    const condition = claimCondition(NOW);
    expect(condition.expression).toBe(
      'attribute_not_exists(id) OR #state IN (:scheduled, :queued) OR (#state = :running AND leaseUntil < :nowMs) OR (#state = :retrying AND nextAttemptAt <= :now)',
    );
    expect(condition.values).toEqual({
      ':scheduled': 'scheduled',
      ':queued': 'queued',
      ':running': 'running',
      ':nowMs': NOW,
      ':retrying': 'retrying',
      ':now': new Date(NOW).toISOString(),
    });
  });

  it('pins the version read: state, updatedAt, attempts and the sweeper count', () => {
    const seen = claimedRecord({ id: 'j', type: 't', state: 'queued', attempts: 0, updatedAt: '2026-11-23T11:00:00.000Z' });
    expect(unchangedSince(seen).expression).toBe(
      '#state = :queued AND updatedAt = :seenUpdatedAt AND attempts = :seenAttempts AND attribute_not_exists(sweeps)',
    );
    expect(unchangedSince({ ...seen, sweeps: 2 })).toMatchObject({
      expression: '#state = :queued AND updatedAt = :seenUpdatedAt AND attempts = :seenAttempts AND sweeps = :seenSweeps',
      values: { ':seenUpdatedAt': '2026-11-23T11:00:00.000Z', ':seenAttempts': 0, ':seenSweeps': 2 },
    });
  });

  it('parenthesizes only where AND and OR mix', () => {
    const a = term('a = :a', {}, { ':a': 1 });
    const b = term('b = :b', {}, { ':b': 2 });
    expect(anyOf(allOf(a, b), stateIn(['queued'])).expression).toBe('(a = :a AND b = :b) OR #state = :queued');
    expect(allOf(anyOf(a, b), stateIn(['queued'])).expression).toBe('(a = :a OR b = :b) AND #state = :queued');
  });

  it('throws when two parts bind one placeholder to different values', () => {
    expect(() => allOf(term('x = :v', {}, { ':v': 1 }), term('y = :v', {}, { ':v': 2 }))).toThrow(
      /bound to two different values/,
    );
    expect(() => withCondition(stateIn(['queued']), { values: { ':queued': 'dead' } })).toThrow(/bound to two different values/);
  });
});
