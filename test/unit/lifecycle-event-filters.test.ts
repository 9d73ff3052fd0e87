import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { passesFilters } from '../../bench/lib/event-filter.js';
import { lifecycleEventOf } from '../../functions/event-publisher/lifecycle-entry.js';
import { lifecycleEventFilters } from '../../infra/lifecycle-events.js';
import { resolveLifecycleEvents } from '../../shared/events/lifecycle-events.js';
import { canTransition, JOB_STATES, type JobState } from '../../shared/index.js';
import { jobRecord, jobStreamRecord } from '../helpers/stream-records.js';

describe('lifecycle event filters', () => {
  // Over the changes the state machine allows (and the ones that keep the state, create or delete a record): no terminal
  // state moves to another, which is what lets one filter cover all three.
  it('pass a stream record exactly when the publisher turns it into an event (any allowed change, any option)', () => {
    const state = fc.constantFrom(...JOB_STATES);
    fc.assert(
      fc.property(
        fc.option(state, { nil: undefined }),
        fc.option(state, { nil: undefined }),
        fc.constantFrom<unknown>(true, { include: ['started'] }, { include: ['retrying'] }, { include: ['started', 'retrying'] }),
        (from: JobState | undefined, to: JobState | undefined, option) => {
          fc.pre(from === undefined || to === undefined || from === to || canTransition(from, to));
          const events = resolveLifecycleEvents(option) ?? [];
          const record = jobStreamRecord(
            from === undefined ? undefined : jobRecord({ state: from }),
            to === undefined ? undefined : jobRecord({ state: to, progress: { percent: 1 } }),
          );
          const event = to === undefined || from === to ? undefined : lifecycleEventOf({ from, to });
          const published = event !== undefined && events.includes(event);
          expect(passesFilters(record, lifecycleEventFilters(events))).toBe(published);
        },
      ),
      { numRuns: 500 },
    );
  });
});
