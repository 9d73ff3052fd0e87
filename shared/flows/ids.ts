import { createHash } from 'node:crypto';
import { controlItemId } from '../store/control-items.js';

/** Longest job id (JobIdSchema). */
const MAX_JOB_ID_LENGTH = 128;

/**
 * A job id derived from `base` (a job or batch id) and `suffix`: `<base>.<suffix>`,
 * or, when that would pass 128 characters, a 40-character hash of `base` in its
 * place. The same inputs always give the same id, which is what makes a write
 * of a derived job idempotent (its create is conditional on the id being free).
 */
export function derivedJobId(base: string, suffix: string): string {
  const plain = `${base}.${suffix}`;
  if (plain.length <= MAX_JOB_ID_LENGTH) return plain;
  return `${createHash('sha256').update(base).digest('hex').slice(0, 40)}.${suffix}`;
}

/** The id of the `index`-th follow-up (`ctx.enqueue`) of a job; a job succeeds once, so there is one set. */
export function followUpId(parentId: string, index: number): string {
  return derivedJobId(parentId, `then${index}`);
}

/** The batch of the children a parent's attempt `attempt` waits for: a resumed parent may wait again. */
export function childrenBatchId(parentId: string, attempt: number): string {
  return derivedJobId(parentId, `wait${attempt}`);
}

/** The id of member `index` of a batch (0-based, in the order given). */
export function memberId(batchId: string, index: number): string {
  return derivedJobId(batchId, String(index));
}

/** The id of a batch's callback job: one per batch and kind, so it is created once however often completion runs. */
export function callbackId(batchId: string, kind: 'onComplete' | 'onSuccess'): string {
  return derivedJobId(batchId, kind === 'onComplete' ? 'complete' : 'success');
}

/** The job table item that holds a batch's counts (`batch#<id>`). */
export function batchItemId(batchId: string): string {
  return controlItemId('batch', batchId);
}
