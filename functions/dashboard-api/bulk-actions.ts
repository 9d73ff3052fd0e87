import {
  InvalidArgumentError,
  isJobState,
  type JobRecord,
  type JobState,
  type ListPage,
  type ListQuery,
} from '../../shared/index.js';
import type { CancelResult } from '../../shared/store/types.js';

/** The states each bulk action applies to: those its single-job action (`retry`, `cancel`) moves a job from. */
export const BULK_ACTION_STATES = {
  /** `jobs.retry` requeues only a dead job (a cancelled one stays cancelled: the state machine has no way back). */
  retry: ['dead'],
  /** `jobs.cancel` cancels these; a running job is asked to stop at its next check. */
  cancel: ['scheduled', 'queued', 'retrying', 'running', 'waiting'],
} as const satisfies Record<string, readonly JobState[]>;

export type BulkAction = keyof typeof BULK_ACTION_STATES;

/** Most jobs one bulk action touches (and its preview counts): one request must stay short and its effect reviewable. */
export const MAX_BULK_JOBS = 1_000;
/**
 * Jobs read per list page while collecting the matching set. The set is listed in the table's own order (no
 * `newestFirst`: which jobs match does not depend on order), so a plain state's page is a Scan that stops once
 * full (see `JobReader.list`); large pages take fewer round trips: 1,000 jobs in 4 pages, not 10.
 */
const BULK_PAGE_SIZE = 250;
/** Single-job actions run at once: enough to finish 1,000 in seconds, few enough not to throttle the table. */
const BULK_CONCURRENCY = 8;
const MAX_ID_PREFIX_CHARS = 128;

/** A bulk action's filter: the state is required, so the set is never "every job". */
export interface BulkFilter {
  readonly state: JobState;
  readonly type?: string;
  readonly queue?: string;
  readonly idPrefix?: string;
}

/** What a bulk action would touch: `more` when over MAX_BULK_JOBS match (the action then takes the first ones). */
export interface BulkPreview {
  readonly action: BulkAction;
  readonly filter: BulkFilter;
  readonly count: number;
  readonly more: boolean;
}

export interface BulkActionResult {
  readonly action: BulkAction;
  readonly filter: BulkFilter;
  /** Jobs the filter matched when the action started (at most its limit). */
  readonly matched: number;
  /** Retried (requeued) or cancelled. */
  readonly done: number;
  /** Running jobs asked to stop (cancel only): they end `cancelled` at their next check. */
  readonly requested: number;
  /** Jobs that had left the state by the time their turn came (ended, retried, gone): left as they were. */
  readonly skipped: readonly { readonly jobId: string; readonly state?: string }[];
  /** Jobs whose action failed (e.g. a requeued job's message could not be sent); the others went on. */
  readonly failed: readonly { readonly jobId: string; readonly error: string }[];
}

/** What a bulk action needs of a job client: the SDK's own single-job actions and listing. */
export interface BulkJobs {
  list(query?: ListQuery): Promise<ListPage>;
  cancel(jobId: string): Promise<CancelResult>;
  retry(jobId: string): Promise<{ readonly jobId: string; readonly outcome: string; readonly state?: string }>;
}

/** A bulk action's filter or limit is refused: empty, unbounded, or a state the action does not apply to. */
export class BulkFilterError extends InvalidArgumentError {
  constructor(message: string) {
    super(message);
    this.name = 'BulkFilterError';
  }
}

export function isBulkAction(value: string): value is BulkAction {
  return Object.hasOwn(BULK_ACTION_STATES, value);
}

/**
 * Checks a bulk action's filter: a state the action applies to is required
 * (an empty filter would mean every job), the others are optional strings.
 * @throws BulkFilterError naming what is wrong
 */
export function parseBulkFilter(action: BulkAction, input: Readonly<Record<string, unknown>>): BulkFilter {
  const states: readonly JobState[] = BULK_ACTION_STATES[action];
  const { state, type, queue, idPrefix } = input;
  if (state === undefined || state === '') {
    throw new BulkFilterError(
      `a bulk ${action} needs a state filter (${states.join(', ')}): an empty filter would touch every job`,
    );
  }
  if (!isJobState(state) || !states.includes(state)) {
    throw new BulkFilterError(`a bulk ${action} applies to jobs in state ${states.join(', ')} (given ${JSON.stringify(state)})`);
  }
  const text = (name: string, value: unknown, maxChars = 256): string | undefined => {
    if (value === undefined || value === '') return undefined;
    if (typeof value !== 'string' || value.length > maxChars) {
      throw new BulkFilterError(`${name} must be a string of at most ${maxChars} characters (given ${JSON.stringify(value)})`);
    }
    return value;
  };
  const filter = {
    state,
    type: text('type', type),
    queue: text('queue', queue),
    idPrefix: text('idPrefix', idPrefix, MAX_ID_PREFIX_CHARS),
  };
  return Object.fromEntries(Object.entries(filter).filter(([, value]) => value !== undefined)) as unknown as BulkFilter;
}

/**
 * The number of jobs a bulk action would touch: the jobs matching the filter,
 * counted up to MAX_BULK_JOBS by paging through the listing.
 */
export async function previewBulkAction(jobs: BulkJobs, action: BulkAction, filter: BulkFilter): Promise<BulkPreview> {
  const { ids, more } = await matchingJobIds(jobs, filter, MAX_BULK_JOBS);
  return { action, filter, count: ids.length, more };
}

/**
 * Runs `retry` or `cancel` on each job matching the filter, at most `limit` of
 * them (the count the operator confirmed). Each job goes through the SDK's own
 * single-job action, whose write is conditional on the job's state, so a job
 * that changed in between is skipped, never forced; a failure on one job is
 * reported and the others go on.
 * @throws BulkFilterError when `limit` is not 1..MAX_BULK_JOBS
 */
export async function runBulkAction(
  jobs: BulkJobs,
  action: BulkAction,
  filter: BulkFilter,
  limit: unknown,
): Promise<BulkActionResult> {
  if (typeof limit !== 'number' || !Number.isInteger(limit) || limit < 1 || limit > MAX_BULK_JOBS) {
    throw new BulkFilterError(
      `limit must be the number of jobs to touch, 1..${MAX_BULK_JOBS}, as the preview counted them (given ${JSON.stringify(limit)})`,
    );
  }
  const { ids } = await matchingJobIds(jobs, filter, limit);
  let done = 0;
  let requested = 0;
  const skipped: { jobId: string; state?: string }[] = [];
  const failed: { jobId: string; error: string }[] = [];
  const actOn = async (jobId: string): Promise<void> => {
    try {
      if (action === 'retry') {
        const result = await jobs.retry(jobId);
        if (result.outcome === 'requeued') done++;
        else skipped.push({ jobId, ...(result.state === undefined ? {} : { state: result.state }) });
        return;
      }
      const result = await jobs.cancel(jobId);
      if (result.outcome === 'cancelled') done++;
      else if (result.outcome === 'requested') requested++;
      else skipped.push({ jobId, ...(result.outcome === 'finished' ? { state: result.record.state } : {}) });
    } catch (error) {
      failed.push({ jobId, error: `${(error as Error).name}: ${(error as Error).message}` });
    }
  };
  let next = 0;
  const lanes = Array.from({ length: Math.min(BULK_CONCURRENCY, ids.length) }, async () => {
    while (next < ids.length) await actOn(ids[next++] as string);
  });
  await Promise.all(lanes);
  return { action, filter, matched: ids.length, done, requested, skipped, failed };
}

/** Ids of the jobs matching the filter, up to `limit`, and whether more match. */
async function matchingJobIds(jobs: BulkJobs, filter: BulkFilter, limit: number): Promise<{ ids: string[]; more: boolean }> {
  const ids: string[] = [];
  let cursor: string | undefined;
  do {
    const page = await jobs.list({ ...filter, limit: BULK_PAGE_SIZE, ...(cursor === undefined ? {} : { cursor }) });
    // The listing reads an index or a Scan: a record re-read since may have moved; only those still matching count.
    const matching = page.jobs.filter((job: JobRecord) => job.state === filter.state);
    for (const job of matching) {
      if (ids.length === limit) return { ids, more: true };
      ids.push(job.id);
    }
    cursor = page.cursor;
  } while (cursor !== undefined);
  return { ids, more: false };
}
