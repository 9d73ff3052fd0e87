import type { JobRegistry } from '../job-definition.js';

/** The flow control a job type declares, as data (no key functions): what `jobs.flowControl()` lists. */
export interface FlowControlSummary {
  readonly jobType: string;
  readonly queue: string;
  /** `perKey`: the limit is per key (a key function); otherwise for the whole job type. */
  readonly concurrency?: { readonly limit: number; readonly perKey: boolean };
  readonly rateLimit?: { readonly limit: number; readonly perMs: number; readonly perKey: boolean };
  /** The jobs of one key run in enqueue order (the queue is FIFO). */
  readonly ordering?: true;
  readonly debounce?: { readonly periodMs: number };
  readonly throttle?: { readonly periodMs: number };
  /** The priority level its jobs get when `enqueue` names none (the queue's levels are in the construct). */
  readonly priority?: string;
  /** Fair between keys: its jobs carry a message group per key on their standard queue. */
  readonly fairness?: true;
}

/** The job types of `registry` that declare any flow control, by name. */
export function summarizeFlowControl(registry: JobRegistry): FlowControlSummary[] {
  return Object.values(registry)
    .map((job): FlowControlSummary => {
      const { concurrency, rateLimit, ordering, debounce, throttle, priority, fairness } = job;
      return {
        jobType: job.name,
        queue: job.queue,
        ...(concurrency ? { concurrency: { limit: concurrency.limit, perKey: concurrency.key !== undefined } } : {}),
        ...(rateLimit
          ? { rateLimit: { limit: rateLimit.limit, perMs: rateLimit.perMs, perKey: rateLimit.key !== undefined } }
          : {}),
        ...(ordering ? { ordering: true as const } : {}),
        ...(debounce ? { debounce: { periodMs: debounce.periodMs } } : {}),
        ...(throttle ? { throttle: { periodMs: throttle.periodMs } } : {}),
        ...(priority === undefined ? {} : { priority }),
        ...(fairness ? { fairness: true as const } : {}),
      };
    })
    .filter((summary) => Object.keys(summary).length > 2)
    .sort((a, b) => a.jobType.localeCompare(b.jobType));
}
