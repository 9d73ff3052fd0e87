import { expect, it } from 'vitest';
import { localConnection } from '../../shared/index.js';
import { runFlowsMix } from '../soak/flows-mix.js';
import { runSoak } from '../soak/soak.js';
import { connectTestClient, testEndpoint } from './helpers.js';

it('under injected faults and a backlog older than every sweeper threshold, every job ends where it must: nothing lost, killed or run twice (small soak)', async () => {
  const jobs = await connectTestClient();
  const report = await runSoak({
    jobs,
    aws: localConnection(testEndpoint()),
    count: 80,
    seed: 7,
    timeoutMs: 170_000,
    backlogMs: 8_000,
  });

  expect(report.wrongOutcome).toEqual([]);
  expect(report.outcome.succeeded + report.outcome.dead + report.outcome.cancelled).toBe(report.enqueued);
  expect(report.outcome.unfinished + report.outcome.missing).toBe(0);
  expect(report.duplicatedEffects).toBe(0);
  expect(report.missingEffects).toBe(0);
  expect(report.deadWithoutCopy).toBe(0);
  // Flow control: no wait cost an attempt, no slot leaked (every tenant's live count is back to zero).
  expect(report.flow).toEqual({ extraAttempts: 0, liveSlots: 0, unreleased: [] });
  // While the backlog was held, the sweeper (thresholds of a second) re-sent and ended nothing.
  expect(report.backlog?.sweeps).toBeGreaterThan(1);
  expect(report.backlog?.resent).toBe(0);
  expect(report.backlog?.ended).toBe(0);
  // The seeded mix exercises every fault at least once.
  expect(Object.values(report.faults).every((count) => count > 0)).toBe(true);
}, 230_000);

it('flows under retries, deaths and redrives: exact batch counts, each callback once, each parent resumed once with its children (flows mix)', async () => {
  const jobs = await connectTestClient();
  const report = await runFlowsMix({ jobs, runId: `soak-flows-${Date.now().toString(36)}`, batches: 2, parents: 2 });
  expect(report).toMatchObject({ batches: 2, parents: 2 });
  expect(report.wrongBatches).toEqual([]);
  expect(report.wrongCallbacks).toEqual([]);
  expect(report.wrongParents).toEqual([]);
}, 200_000);
