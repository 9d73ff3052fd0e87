import { MAX_FLOW_JOB_BYTES, MAX_FLOW_JOBS_PER_ATTEMPT } from '../../shared/flows/batch-store.js';
import { FlowJobsTooLargeError, InvalidFlowJobError, TooManyFlowJobsError } from '../../shared/flows/errors.js';
import { childrenBatchId, followUpId, memberId } from '../../shared/flows/ids.js';
import { prepareFlowJob } from '../../shared/flows/prepare.js';
import type { NewBatch } from '../../shared/flows/types.js';
import type { AnyJobContract, FlowJobOptions, FlowJobRequest, SpawnOptions } from '../../shared/job-definition.js';
import type { NewJobRecord } from '../../shared/store/types.js';

/**
 * What `ctx.spawnAndWait` throws to end the handler: the worker catches it and
 * writes the wait. A class of its own, not an error a retry policy could see.
 */
export class WaitForChildrenSignal {
  readonly name = 'WaitForChildrenSignal';
  readonly message = 'the job waits for its children (ctx.spawnAndWait ends the attempt; do not catch this)';
}

/** The children a handler asked to wait for. */
export interface ChildrenWait {
  readonly batch: NewBatch;
  readonly children: readonly NewJobRecord[];
}

/**
 * The follow-ups and children one attempt asked for, kept in memory until the
 * attempt's outcome is written: the success (with the follow-ups) or the wait
 * (with the children and the follow-ups) is one transaction, and an attempt
 * that fails writes none of them.
 */
export class AttemptFlows {
  readonly followUps: NewJobRecord[] = [];
  wait: ChildrenWait | undefined;
  readonly signal = new WaitForChildrenSignal();
  private bytes = 0;

  constructor(
    private readonly registry: Readonly<Record<string, AnyJobContract>>,
    private readonly parent: { readonly id: string; readonly type: string; readonly correlationId: string },
    private readonly attempt: number,
  ) {}

  /** True when the attempt asked for anything to be written with its outcome. */
  get any(): boolean {
    return this.followUps.length > 0 || this.wait !== undefined;
  }

  enqueue(type: string, payload: unknown, options: FlowJobOptions = {}): { jobId: string } {
    this.ensureRoom(1);
    const prepared = prepareFlowJob(
      this.registry,
      { type, payload, id: followUpId(this.parent.id, this.followUps.length), correlationId: this.correlationOf(options) },
      { enqueuedBy: this.parent.id },
    );
    this.addBytes(prepared.sizeBytes);
    this.followUps.push(prepared.record);
    return { jobId: prepared.record.id };
  }

  spawnAndWait(requests: readonly FlowJobRequest[], options: SpawnOptions = {}): Promise<never> {
    const context = { jobId: this.parent.id, jobType: this.parent.type };
    if (this.wait !== undefined) throw new InvalidFlowJobError('ctx.spawnAndWait was called twice in one attempt', context);
    if (!Array.isArray(requests) || requests.length === 0) {
      throw new InvalidFlowJobError(
        `ctx.spawnAndWait needs at least one child (given ${Array.isArray(requests) ? 'none' : typeof requests})`,
        context,
      );
    }
    const onChildDead = options.onChildDead ?? 'fail';
    if (onChildDead !== 'fail' && onChildDead !== 'continue') {
      throw new InvalidFlowJobError(`onChildDead must be 'fail' or 'continue' (given ${JSON.stringify(onChildDead)})`, context);
    }
    this.ensureRoom(requests.length);
    const batchId = childrenBatchId(this.parent.id, this.attempt);
    let bytes = 0;
    const children = requests.map((request, index) => {
      const prepared = prepareFlowJob(
        this.registry,
        {
          type: request?.type,
          payload: request?.payload,
          id: memberId(batchId, index),
          correlationId: this.correlationOf(request?.options ?? {}),
        },
        { batchId, parentId: this.parent.id },
      );
      bytes += prepared.sizeBytes;
      return prepared.record;
    });
    this.addBytes(bytes);
    this.wait = { batch: { batchId, kind: 'children', total: children.length, parentId: this.parent.id, onChildDead }, children };
    const ended = Promise.reject(this.signal);
    // Handled here too: a handler that calls it without returning it must not crash the process; the wait stands.
    ended.catch(() => undefined);
    return ended;
  }

  private correlationOf(options: FlowJobOptions): string {
    return options.correlationId ?? this.parent.correlationId;
  }

  private ensureRoom(more: number): void {
    const given = this.followUps.length + (this.wait?.children.length ?? 0) + more;
    if (given > MAX_FLOW_JOBS_PER_ATTEMPT) {
      throw new TooManyFlowJobsError(given, MAX_FLOW_JOBS_PER_ATTEMPT, { jobId: this.parent.id, jobType: this.parent.type });
    }
  }

  private addBytes(bytes: number): void {
    if (this.bytes + bytes > MAX_FLOW_JOB_BYTES) {
      throw new FlowJobsTooLargeError(this.bytes + bytes, MAX_FLOW_JOB_BYTES, {
        jobId: this.parent.id,
        jobType: this.parent.type,
      });
    }
    this.bytes += bytes;
  }
}
