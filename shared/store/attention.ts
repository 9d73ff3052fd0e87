import type { JobState } from '../states.js';

/**
 * Partition-key values per state in the sparse attention index. One value per
 * state would put every retrying job of a retry storm on one index partition
 * (about 1,000 writes a second at most); spreading each state over a few key
 * values by job id multiplies that, at the price of one query per shard when
 * listing or counting a state.
 */
export const ATTENTION_SHARDS = 4;

/** The index key of a job in a state that needs attention: `<state>#<shard>`, the shard fixed by the job id. */
export function attentionKey(state: JobState, jobId: string): string {
  return `${state}#${shardOf(jobId)}`;
}

/** Every index key value of a state, to query them all. */
export function attentionKeysOf(state: JobState): string[] {
  return Array.from({ length: ATTENTION_SHARDS }, (_, shard) => `${state}#${shard}`);
}

/** FNV-1a: a stable, well-spread hash, so a job keeps its shard across state changes. */
function shardOf(jobId: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < jobId.length; i++) {
    hash ^= jobId.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash % ATTENTION_SHARDS;
}
