/**
 * Items in the job table that are not jobs: the state of flow control
 * (concurrency slots, rate-limit logs, debounce and throttle marks) and queue
 * controls (pauses, a `jobstack dev` session holding the workers) and batches (counts of a batch's members,
 * `batch#<id>`). Their ids hold `#`, which no job id can (JobIdSchema
 * allows `A-Z a-z 0-9 . _ : -` only), so the two never collide; they carry no
 * `state`, so every read of jobs (`list`, the sweeper's scan, the attention
 * index) leaves them out.
 */

/** What a control item is for: the first part of its id. */
export type ControlItemKind = 'concurrency' | 'rate' | 'debounce' | 'throttle' | 'queue' | 'dev' | 'batch';

/**
 * The id of the control item of `kind` for `parts` (job type, key, …), e.g.
 * `concurrency#email.send#tenant-42`. A part may hold any character but `#`
 * is the separator, so parts are percent-encoded where they hold it.
 */
export function controlItemId(kind: ControlItemKind, ...parts: readonly string[]): string {
  return [kind, ...parts.map((part) => part.replaceAll('%', '%25').replaceAll('#', '%23'))].join('#');
}

/** True for the id of a control item (never for a job id). */
export function isControlItemId(id: string): boolean {
  return id.includes('#');
}
