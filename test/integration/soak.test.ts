import { expect, it } from 'vitest';
import { localConnection } from '../../shared/index.js';
import { runSoak } from '../soak/soak.js';
import { connectTestClient, testEndpoint } from './helpers.js';

it('under injected faults every job ends where it must, nothing lost, no side effect twice (small soak)', async () => {
  const jobs = await connectTestClient();
  const report = await runSoak({ jobs, aws: localConnection(testEndpoint()), count: 60, seed: 7, timeoutMs: 150_000 });

  expect(report.wrongOutcome).toEqual([]);
  expect(report.outcome.succeeded + report.outcome.dead + report.outcome.cancelled).toBe(report.enqueued);
  expect(report.outcome.unfinished + report.outcome.missing).toBe(0);
  expect(report.duplicatedEffects).toBe(0);
  expect(report.missingEffects).toBe(0);
  // The seeded mix exercises every fault at least once.
  expect(Object.values(report.faults).every((count) => count > 0)).toBe(true);
}, 200_000);
