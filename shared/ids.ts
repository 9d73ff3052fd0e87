import { randomBytes } from 'node:crypto';

const CROCKFORD = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';

/**
 * A new job id: 10 characters of millisecond time then 16 random ones (a ULID),
 * so ids sort by creation time and 80 random bits make collisions negligible.
 */
export function newJobId(now: number = Date.now()): string {
  let time = '';
  let remaining = now;
  for (let i = 0; i < 10; i++) {
    time = CROCKFORD[remaining % 32] + time;
    remaining = Math.floor(remaining / 32);
  }
  const bytes = randomBytes(16);
  let random = '';
  for (const byte of bytes) random += CROCKFORD[byte % 32];
  return time + random;
}

/**
 * The prefix of a lean job's id (`enqueueMany(..., { lean: true })`): such a job
 * has no record until its claim creates one, and the prefix is how `cancel`
 * knows that a missing record may be a job not started yet (it then writes a
 * tombstone) rather than an unknown id.
 */
export const LEAN_JOB_ID_PREFIX = 'lean:';

/** A new lean job id: the prefix and a ULID. */
export function newLeanJobId(now: number = Date.now()): string {
  return LEAN_JOB_ID_PREFIX + newJobId(now);
}

/** Whether `id` is the id of a job enqueued lean. */
export function isLeanJobId(id: string): boolean {
  return id.startsWith(LEAN_JOB_ID_PREFIX);
}
