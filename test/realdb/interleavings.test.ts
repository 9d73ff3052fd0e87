import * as fc from 'fast-check';
import { afterAll, beforeAll, describe, it } from 'vitest';
import { LEASE_SLACK_MS } from '../../functions/worker/process-record.js';
import { isTerminal, JobStore } from '../../shared/index.js';
import {
  AdvanceClock,
  Complete,
  Crash,
  commandArbitraries,
  Deliver,
  type Model,
  Retry,
  Throw,
} from './interleavings/commands.js';
import { checkInvariants } from './interleavings/invariants.js';
import { MODEL_JOB_TIMEOUT_MS, VISIBILITY_TIMEOUT_MS, World } from './interleavings/world.js';
import { createTestTables, FakeClock, realDocumentClient, type TestTables } from './tables.js';

// Model-based: random interleavings of deliveries (duplicates included), handler outcomes and
// crashes, time, cancel and retry, run by the real worker pipeline on the real store and a real
// DynamoDB, with every invariant (interleavings/invariants.ts) checked after every step.
// A failure prints the shrunk command sequence and fast-check's seed and path: replay it with
// `{ seed, path }` in the options below, then keep it as an example test.

const START = Date.parse('2026-11-23T12:00:00.000Z');
const JOBS_PER_RUN = 2;
const documentClient = realDocumentClient();
let tables: TestTables;

beforeAll(async () => {
  tables = await createTestTables(documentClient, 'interleavings');
});
afterAll(() => tables.drop());

/** Runs one command sequence (random or written out) and then drains: the body of the property. */
async function runSequence(commands: Iterable<fc.AsyncCommand<Model, World>>): Promise<void> {
  const clock = new FakeClock(START);
  // Every run shares the table; fresh job ids keep runs apart.
  const world = new World(new JobStore(documentClient, tables.jobs, { clock: clock.now }), clock);
  try {
    for (let i = 0; i < JOBS_PER_RUN; i++) await world.enqueue();
    await checkInvariants(world, 'enqueue');
    await fc.asyncModelRun(() => ({ model: {} as Model, real: world }), commands);
    // Then nothing more goes wrong: every job must reach exactly one terminal state.
    await world.drain((step) => checkInvariants(world, step));
    for (const job of world.jobs) {
      const record = await world.store.get(job.id);
      if (!record || !isTerminal(record.state))
        throw new Error(`job ${job.id} did not finish: ${record?.state ?? 'no record'} after the system settled`);
    }
  } finally {
    world.shutdown();
  }
}

const LEASE_EXPIRED = MODEL_JOB_TIMEOUT_MS + LEASE_SLACK_MS + 1;

describe('interleavings of deliveries, crashes, time, cancel and retry', () => {
  // Sequences written out: the cases the random search must not miss, and where shrunk counterexamples go.
  it.each([
    [
      'a run outlives its lease, a duplicate takes over, then the first run returns',
      [new Deliver(0, false), new AdvanceClock(LEASE_EXPIRED), new Deliver(0, true), new Complete(0), new Complete(0)],
    ],
    [
      'a run outlives its lease, a duplicate takes over, then the first run fails',
      [new Deliver(0, false), new AdvanceClock(LEASE_EXPIRED), new Deliver(0, true), new Throw(0, true), new Throw(0, false)],
    ],
    [
      'a crashed run is taken over when its message comes back',
      [new Deliver(0, false), new Crash(0), new AdvanceClock(VISIBILITY_TIMEOUT_MS + 1), new Deliver(0, false), new Complete(0)],
    ],
    [
      'a job dies, is retried and runs again',
      [new Deliver(0, false), new Throw(0, false), new Retry(0), new Deliver(0, false), new Complete(0)],
    ],
    [
      'a handler returns a number beyond 2^53: its outcome is recorded, it never runs again (fault 3)',
      [new Deliver(0, false), new Complete(0, 'unsafe-integer')],
    ],
    [
      'a handler returns 1e-200, which DynamoDB refuses: its outcome is recorded, it never runs again (fault 3)',
      [new Deliver(0, false), new Complete(0, 'out-of-range-number')],
    ],
  ] as const)('%s', async (_name, commands) => {
    await runSequence(commands);
  });

  it('keep every invariant after every step, and every job finishes once nothing more goes wrong', async () => {
    await fc.assert(
      fc.asyncProperty(fc.commands(commandArbitraries, { maxCommands: 24 }), runSequence),
      // 60 runs keep `npm test` fast; set JOBSTACK_INTERLEAVING_RUNS higher for a longer search.
      { numRuns: Number(process.env.JOBSTACK_INTERLEAVING_RUNS ?? 60) },
    );
    // About 10 s here; room for a slow CI machine sharing its two cores with the other projects.
  }, 120_000);
});
