import { describe, expect, it } from 'vitest';
import {
  assertTransition,
  canTransition,
  IllegalTransitionError,
  isTerminal,
  JOB_STATES,
  needsAttention,
  sourcesOf,
} from '../../shared/index.js';

describe('job state machine', () => {
  it('allows the happy path queued → running → succeeded', () => {
    expect(canTransition('queued', 'running')).toBe(true);
    expect(canTransition('running', 'succeeded')).toBe(true);
  });

  it('allows retries, takeover of an expired run, dead-lettering and manual retry', () => {
    expect(canTransition('running', 'retrying')).toBe(true);
    expect(canTransition('retrying', 'running')).toBe(true);
    expect(canTransition('running', 'running')).toBe(true);
    expect(canTransition('running', 'dead')).toBe(true);
    expect(canTransition('dead', 'queued')).toBe(true);
  });

  it('allows cancel from every non-terminal state and from no terminal one', () => {
    for (const state of JOB_STATES) {
      expect(canTransition(state, 'cancelled')).toBe(!isTerminal(state));
    }
  });

  it('never leaves succeeded or cancelled', () => {
    for (const target of JOB_STATES) {
      expect(canTransition('succeeded', target)).toBe(false);
      expect(canTransition('cancelled', target)).toBe(false);
    }
  });

  it('fails if a transition is not allowed, naming both states', () => {
    expect(() => assertTransition('succeeded', 'running', 'job-1')).toThrow(IllegalTransitionError);
    expect(() => assertTransition('queued', 'succeeded')).toThrow(/from 'queued' to 'succeeded'/);
  });

  it('keeps plain-job states out of the attention index', () => {
    expect(['queued', 'running', 'succeeded'].filter((s) => needsAttention(s as never))).toEqual([]);
    expect(['scheduled', 'retrying', 'dead', 'cancelled'].every((s) => needsAttention(s as never))).toBe(true);
  });

  it('lists the sources of each target state', () => {
    expect(sourcesOf('succeeded')).toEqual(['running']);
    expect(sourcesOf('scheduled')).toEqual([]);
  });
});
