/**
 * Environment variables of the undeliverable-queue consumer beyond the worker's
 * (it shares the worker's environment for the queue it serves).
 */
export const DeadLetterEnv = {
  /**
   * URL of the undeliverable queue it consumes, to hold a message back until a
   * live lease ends. Optional: without it such a message comes back after the
   * queue's visibility timeout.
   */
  undeliverableQueueUrl: 'JOBSTACK_UNDELIVERABLE_QUEUE_URL',
} as const;
