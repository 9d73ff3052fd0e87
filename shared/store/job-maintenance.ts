import { ScanCommand } from '@aws-sdk/lib-dynamodb';
import type { JobRecord } from '../record.js';
import { isTerminal, JOB_STATES } from '../states.js';
import { allOf, anyOf, stateIn, term, unchangedSince, withCondition } from './conditions.js';
import { conditionalUpdate } from './dynamo.js';
import { JobStore } from './job-store.js';
import type { ScanPage } from './types.js';

/** The states a job can be in before it ends: what the sweeper looks at. */
export const UNFINISHED_STATES = JOB_STATES.filter((state) => !isTerminal(state));

/**
 * The stuck-job sweeper's view of the job table: every transition of
 * `JobStore`, plus a bounded scan of unfinished records (and dead ones whose
 * dead-letter copy is pending) and the re-send count.
 * Every write it makes is conditional on the record version it read
 * (`unchangedSince`), so a job that moved after the scan — claimed, retried,
 * swept by an overlapping run — is left alone. Its kill is
 * `markDeadIfUnchanged`, shared with the undeliverable-queue consumer.
 */
export class JobMaintenance extends JobStore {
  /**
   * One page of records not yet finished (queued, scheduled, running,
   * retrying), and of dead records whose dead-letter copy is still pending.
   * A Scan: the sweeper bounds it per run and resumes from `cursor`, so each
   * record is read once per full pass. Eventually consistent, which is why
   * every write that follows is conditional on what was read.
   */
  async scanUnfinished(options: { cursor?: Record<string, unknown>; limit: number }): Promise<ScanPage> {
    const filter = withCondition(
      anyOf(stateIn(UNFINISHED_STATES), allOf(stateIn(['dead']), term('deadLetterPending = :true', {}, { ':true': true }))),
    );
    const output = await this.documentClient.send(
      new ScanCommand({
        TableName: this.tableName,
        Limit: options.limit,
        ExclusiveStartKey: options.cursor,
        FilterExpression: filter.ConditionExpression,
        ExpressionAttributeNames: filter.ExpressionAttributeNames,
        ExpressionAttributeValues: filter.ExpressionAttributeValues,
      }),
    );
    const records = (output.Items ?? []) as JobRecord[];
    return output.LastEvaluatedKey ? { records, cursor: output.LastEvaluatedKey } : { records };
  }

  /**
   * Counts a sweeper re-send (`sweeps` + 1, `sweptAt` now), on the condition
   * that the record is still the version the sweeper read, so a worker that
   * just picked the job up, or another sweep, is never raced. Not a transition:
   * the state stays as it is, and `updatedAt` too (it marks the job's own
   * progress; `claim` removes the count again).
   * @returns false when the job moved since the read.
   */
  async markSwept(seen: JobRecord): Promise<boolean> {
    return conditionalUpdate(this.documentClient, this.tableName, {
      Key: { id: seen.id },
      UpdateExpression: 'SET sweptAt = :now, sweeps = if_not_exists(sweeps, :zero) + :one',
      ...withCondition(unchangedSince(seen), {
        values: { ':now': new Date(this.clock()).toISOString(), ':zero': 0, ':one': 1 },
      }),
    });
  }
}
