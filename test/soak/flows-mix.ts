import type { Registry } from '../../functions/jobs/contracts.js';
import type { BatchInfo } from '../../shared/flows/types.js';
import type { JobClient, JobRecord } from '../../shared/index.js';

/**
 * The flows mix of the soak (issue 12): batches whose members succeed, retry and die, with members
 * redriven after the batch's callback already ran; and parents waiting for children, one of which
 * dies. What must hold: every batch ends with exact counts (a redriven member moves from `dead` to
 * its new outcome, never counted twice), its callback job ran once, and every parent resumed once
 * with its children's results and created its follow-up once.
 */
export interface FlowsMixReport {
  readonly batches: number;
  readonly parents: number;
  /** Batches whose final counts or status differ from what their members' outcomes imply. */
  readonly wrongBatches: { batchId: string; actual: unknown; expected: unknown }[];
  /** Callback jobs that did not run exactly once (attempts ≠ 1 or not succeeded). */
  readonly wrongCallbacks: { jobId: string; state: string; attempts: number }[];
  /** Parents that did not end succeeded with the sum of their live children and one follow-up. */
  readonly wrongParents: { jobId: string; state: string; result: unknown }[];
}

export interface FlowsMixOptions {
  readonly jobs: JobClient<Registry>;
  readonly runId: string;
  readonly batches?: number;
  readonly parents?: number;
  readonly timeoutMs?: number;
  readonly log?: (line: string) => void;
}

const SQUARES = [1, 2, 3, 4];
/** The parents' children: 2 dies for good (`onChildDead: 'continue'`), so the sum leaves out its square. */
const PARENT_PAYLOAD = { numbers: [1, 2, 3, 4], failing: [2] };
const PARENT_SUM = 1 + 9 + 16;

export async function runFlowsMix(options: FlowsMixOptions): Promise<FlowsMixReport> {
  const { jobs } = options;
  const log = options.log ?? (() => undefined);
  const deadline = Date.now() + (options.timeoutMs ?? 150_000);
  const batchIds: string[] = [];
  for (let b = 0; b < (options.batches ?? 2); b++) {
    const { batchId } = await jobs.batch(
      [
        ...SQUARES.map((n) => ({ type: 'demo.square' as const, payload: { n } })),
        // Dies for good, every time it runs.
        { type: 'demo.square', payload: { n: 5, fail: true } },
        // Dies after its 3 attempts; redriven, its 4th attempt succeeds.
        { type: 'demo.flaky', payload: { failTimes: 3 } },
      ],
      { batchId: `${options.runId}-batch-${b}`, onComplete: { type: 'demo.batch-done', payload: { label: `b${b}` } } },
    );
    batchIds.push(batchId);
  }
  const parentIds: string[] = [];
  for (let p = 0; p < (options.parents ?? 2); p++) {
    parentIds.push((await jobs.enqueue('demo.fanout', PARENT_PAYLOAD)).jobId);
  }
  log(`flows mix: ${batchIds.length} batches, ${parentIds.length} parents`);

  // Phase 1: every batch completes and its callback runs.
  const completed = await Promise.all(batchIds.map((id) => settledBatch(jobs, id, deadline)));
  await Promise.all(completed.map((batch) => jobs.wait(batch.onComplete?.jobId ?? '', { timeout: '120s' })));

  // Phase 2: redrive the dead members after the callback ran.
  for (const batch of completed) {
    for (const memberId of batch.memberIds) {
      const member = await jobs.get(memberId);
      if (member?.state === 'dead') await jobs.retry(memberId);
    }
  }
  const finals = await Promise.all(
    completed.map(async (batch) => {
      const members = await Promise.all(batch.memberIds.map((id) => jobs.wait(id, { timeout: '120s' })));
      return { members, info: await countedBatch(jobs, batch.batchId, members, deadline) };
    }),
  );

  const wrongBatches: FlowsMixReport['wrongBatches'] = [];
  const wrongCallbacks: FlowsMixReport['wrongCallbacks'] = [];
  for (const { members, info } of finals) {
    const expected = { ...expectedCounts(members), status: 'complete' };
    const actual = {
      total: info.total,
      pending: info.pending,
      succeeded: info.succeeded,
      dead: info.dead,
      cancelled: info.cancelled,
      status: info.status,
    };
    // Four squares and the redriven flaky member succeed; the failing square dies again.
    const planned = { total: 6, pending: 0, succeeded: 5, dead: 1, cancelled: 0, status: 'complete' };
    if (JSON.stringify(actual) !== JSON.stringify(expected) || JSON.stringify(actual) !== JSON.stringify(planned)) {
      wrongBatches.push({ batchId: info.batchId, actual, expected: planned });
    }
    const callback = await jobs.get(info.onComplete?.jobId ?? '');
    if (callback?.state !== 'succeeded' || callback.attempts !== 1) {
      wrongCallbacks.push({
        jobId: info.onComplete?.jobId ?? '?',
        state: callback?.state ?? 'missing',
        attempts: callback?.attempts ?? 0,
      });
    }
  }

  const wrongParents: FlowsMixReport['wrongParents'] = [];
  for (const parentId of parentIds) {
    const parent = await jobs.wait(parentId, { timeout: '120s' });
    const result = parent.result as { sum?: number; failed?: number; followUp?: string } | undefined;
    const followUp = result?.followUp ? await jobs.wait(result.followUp, { timeout: '60s' }) : undefined;
    if (parent.state !== 'succeeded' || result?.sum !== PARENT_SUM || result.failed !== 1 || followUp?.state !== 'succeeded') {
      wrongParents.push({ jobId: parentId, state: parent.state, result: parent.result });
    }
  }
  return { batches: batchIds.length, parents: parentIds.length, wrongBatches, wrongCallbacks, wrongParents };
}

function expectedCounts(members: readonly JobRecord[]) {
  const count = (state: string) => members.filter((member) => member.state === state).length;
  return { total: members.length, pending: 0, succeeded: count('succeeded'), dead: count('dead'), cancelled: count('cancelled') };
}

/** Polls until the batch is complete (its callback written). */
async function settledBatch(jobs: JobClient<Registry>, batchId: string, deadline: number): Promise<BatchInfo> {
  for (;;) {
    const batch = await jobs.getBatch(batchId);
    if (batch?.status === 'complete') return batch;
    if (Date.now() > deadline) throw new Error(`batch ${batchId} did not complete in time: ${JSON.stringify(batch)}`);
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
}

/** Polls until the coordinator has counted every member in its final state (or the deadline passes). */
async function countedBatch(
  jobs: JobClient<Registry>,
  batchId: string,
  members: readonly JobRecord[],
  deadline: number,
): Promise<BatchInfo> {
  const expected = expectedCounts(members);
  for (;;) {
    const batch = await jobs.getBatch(batchId);
    if (!batch) throw new Error(`batch ${batchId} is gone`);
    const settled = batch.pending === 0 && batch.succeeded === expected.succeeded && batch.dead === expected.dead;
    if (settled || Date.now() > deadline) return batch;
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
}
