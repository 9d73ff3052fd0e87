import * as z from 'zod';
import { dashboardMetricsSchema } from '../../shared/dashboard-metrics/schema.js';
import type { BatchInfo } from '../../shared/flows/types.js';
import {
  type CancelResult,
  type EnqueuedJob,
  type FlowControlSummary,
  type FlowState,
  JobRecordSchema,
  JobState,
  type ListPage,
  type PauseResult,
  type QueuePause,
  type QueueStatus,
  type RedriveResult,
  type ResumeResult,
  type RetryResult,
  type ScheduleInfo,
} from '../../shared/index.js';
import type { JobStats, LevelStats, QueueStats } from '../../shared/stats.js';
import type { LocalStackUp } from '../commands/local.js';
import type { StatsWithPauses } from '../commands/stats.js';
import type { JobLogLine } from '../job-logs.js';
import { type DeepReadonly, sameShapeAs } from './same-shape.js';

// The shape each command prints with `--json`. Where the output is an SDK value, the schema is checked
// field for field against the SDK's type (sameShapeAs), and the commands print through these schemas'
// types (printJsonOutput), so neither side can change without the other. Records reuse the SDK's
// JobRecordSchema; dashboardMetricsSchema is the metrics API's own.

const jobState = z.enum(JobState);
const isoTime = z.string().describe('ISO-8601 time');

const batchInfo = sameShapeAs<BatchInfo>()(
  z.object({
    batchId: z.string(),
    kind: z.enum(['batch', 'children']).describe('batch: made by jobs.batch; children: the children a parent waits for'),
    status: z.enum(['open', 'complete']),
    total: z.number().int().min(0),
    pending: z.number().int().min(0).describe('members not counted yet'),
    succeeded: z.number().int().min(0),
    dead: z.number().int().min(0),
    cancelled: z.number().int().min(0),
    createdAt: isoTime,
    completedAt: isoTime.optional(),
    parentId: z.string().optional().describe('the waiting parent (children batches)'),
    onChildDead: z.enum(['fail', 'continue']).optional(),
    onComplete: z.object({ jobId: z.string(), type: z.string() }).optional(),
    onSuccess: z.object({ jobId: z.string(), type: z.string() }).optional(),
    memberIds: z.array(z.string()).describe('every member, in the order given'),
  }),
);

const jobLogLine = sameShapeAs<JobLogLine>()(
  z.object({
    timestamp: isoTime.describe('when CloudWatch Logs recorded the line (ISO-8601)'),
    logGroup: z.string(),
    level: z.string().optional(),
    message: z.string(),
    attempt: z.number().int().optional(),
    fields: z.record(z.string(), z.unknown()).describe('every other field of the structured line (error, durationMs, …)'),
  }),
);

const queuePause = sameShapeAs<QueuePause>()(
  z.object({
    queue: z.string(),
    pausedAt: isoTime,
    reason: z.string().optional(),
    keepOnDeploy: z.boolean(),
    stackUpdatedAt: isoTime,
  }),
);

const levelStats = sameShapeAs<LevelStats>()(
  z.object({ name: z.string(), visible: z.number(), inFlight: z.number(), delayed: z.number() }),
);

const queueStats = sameShapeAs<QueueStats>()(
  z.object({
    name: z.string(),
    visible: z.number().describe('messages ready to be received'),
    inFlight: z.number().describe('messages received and not yet deleted'),
    delayed: z.number(),
    deadLetter: z.number().describe("messages in the queue's dead-letter queue"),
    levels: z.array(levelStats).optional().describe('per priority level, highest first'),
  }),
);

const queueStatus = sameShapeAs<QueueStatus>()(
  z.object({
    queue: z.string(),
    status: z.enum(['paused', 'active']),
    pause: queuePause.optional(),
    eventSources: z
      .record(z.string(), z.string())
      .optional()
      .describe("the state of each of the queue's event source mappings (Enabled, Disabling, Disabled, …), by UUID"),
  }),
);

const jobStats = sameShapeAs<JobStats>()(
  z.object({
    stackName: z.string(),
    at: isoTime,
    queues: z.array(queueStats),
    states: z.record(jobState, z.number().int().min(0).nullable()).describe('jobs per state; null: not counted'),
    approximate: z.array(jobState).describe('the states whose count is derived from queue depths'),
  }),
);

const statsWithPauses = sameShapeAs<StatsWithPauses>()(
  jobStats.extend({ paused: z.array(z.string()).describe('the paused queues') }),
);

const flowControlSummary = sameShapeAs<FlowControlSummary>()(
  z.object({
    jobType: z.string(),
    queue: z.string(),
    concurrency: z.object({ limit: z.number().int(), perKey: z.boolean() }).optional(),
    rateLimit: z.object({ limit: z.number().int(), perMs: z.number(), perKey: z.boolean() }).optional(),
    ordering: z.literal(true).optional(),
    debounce: z.object({ periodMs: z.number() }).optional(),
    throttle: z.object({ periodMs: z.number() }).optional(),
    priority: z.string().optional(),
    fairness: z.literal(true).optional(),
  }),
);

const flowState = sameShapeAs<FlowState>()(
  z.object({
    jobType: z.string(),
    key: z.string().describe("the key read ('*' for limits on the whole job type)"),
    concurrency: z
      .object({ limit: z.number().int(), holders: z.array(z.object({ jobId: z.string(), leaseUntil: isoTime })) })
      .optional(),
    rateLimit: z
      .object({
        limit: z.number().int(),
        perMs: z.number(),
        startsInWindow: z.array(isoTime),
        nextStartAt: isoTime.optional(),
      })
      .optional(),
    debounce: z
      .object({ periodMs: z.number(), latest: z.object({ jobId: z.string(), enqueuedAt: isoTime }).optional() })
      .optional(),
    throttle: z.object({ periodMs: z.number(), window: z.object({ jobId: z.string(), until: isoTime }).optional() }).optional(),
  }),
);

const scheduleInfo = sameShapeAs<ScheduleInfo>()(
  z.object({
    name: z.string(),
    expression: z.string().describe('cron(...) or rate(...)'),
    timezone: z.string(),
    state: z.enum(['ENABLED', 'DISABLED']),
    jobType: z.string().optional(),
    payload: z.unknown().optional(),
    owner: z.enum(['stack', 'runtime', 'unknown']),
  }),
);

const retryOutcome = z.enum(['requeued', 'not-dead', 'not-found']);

/** The `--json` output of each command, by the name of its file in docs/cli/ (`<name>.schema.json`). */
export const CLI_JSON_OUTPUTS = {
  enqueue: {
    usage: 'jobstack enqueue <type> --payload <json> --json',
    description: 'The enqueued job. created is false when a job with this id already existed.',
    schema: sameShapeAs<EnqueuedJob>()(
      z.object({
        jobId: z.string(),
        type: z.string(),
        state: jobState,
        created: z.boolean(),
        throttledBy: z.string().optional().describe('the job holding the throttle window; this one was cancelled'),
      }),
    ),
  },
  get: {
    usage: 'jobstack get <jobId> --json',
    description: 'The job record.',
    schema: JobRecordSchema,
  },
  batch: {
    usage: 'jobstack batch <batchId> --json',
    description: "The batch's counts and callbacks, and the records of its first 50 members.",
    schema: batchInfo.extend({ members: z.array(JobRecordSchema).describe('records of the first 50 members') }),
  },
  logs: {
    usage: 'jobstack logs <jobId> --json',
    description: "The job's log lines from CloudWatch Logs, oldest first.",
    schema: z.array(jobLogLine),
  },
  wait: {
    usage: 'jobstack wait <jobId> --json',
    description:
      'The job record once it ended (exit 0 succeeded, 1 dead or cancelled), or, after --timeout, {jobId, timedOut, lastState} (exit 2).',
    schema: z.union([
      JobRecordSchema,
      z.object({ jobId: z.string(), timedOut: z.literal(true), lastState: z.string().optional() }),
    ]),
  },
  list: {
    usage: 'jobstack list --json',
    description: 'One page of job records, newest first; cursor (when present) reads the next page with --cursor.',
    schema: sameShapeAs<ListPage>()(z.object({ jobs: z.array(JobRecordSchema), cursor: z.string().optional() })),
  },
  cancel: {
    usage: 'jobstack cancel <jobId> --json',
    description: 'cancelled; requested (running: asked to stop); finished (already ended, nothing done).',
    schema: sameShapeAs<{ jobId: string; outcome: Exclude<CancelResult['outcome'], 'not-found'>; state: JobState }>()(
      z.object({ jobId: z.string(), outcome: z.enum(['cancelled', 'requested', 'finished']), state: jobState }),
    ),
  },
  retry: {
    usage: 'jobstack retry <jobId> --json',
    description: 'requeued (exit 0), or not-dead: the job was not dead and nothing changed (exit 1).',
    schema: sameShapeAs<Omit<RetryResult, 'outcome'> & { outcome: Exclude<RetryResult['outcome'], 'not-found'> }>()(
      z.object({ jobId: z.string(), outcome: z.enum(['requeued', 'not-dead']), state: jobState.optional() }),
    ),
  },
  'resolve-step': {
    usage: 'jobstack resolve-step <jobId> <step> (--result <json> | --rerun) [--retry] --json',
    description: 'The verdict was recorded; retry is the outcome of --retry (exit 1 unless requeued).',
    schema: z.object({
      jobId: z.string(),
      step: z.string(),
      resolved: z.literal(true),
      retry: sameShapeAs<RetryResult['outcome']>()(retryOutcome).optional(),
    }),
  },
  redrive: {
    usage: 'jobstack redrive --json',
    description: 'Dead letters moved back to their queue, stale copies discarded, and messages left in place.',
    schema: sameShapeAs<RedriveResult>()(
      z.object({ moved: z.number().int(), discarded: z.number().int(), leftInPlace: z.number().int() }),
    ),
  },
  pause: {
    usage: 'jobstack pause <queue> --json',
    description: 'The pause as recorded; newlyPaused is false when the queue was already paused.',
    schema: sameShapeAs<PauseResult>()(z.object({ queue: z.string(), pause: queuePause, newlyPaused: z.boolean() })),
  },
  resume: {
    usage: 'jobstack resume <queue> --json',
    description: 'wasPaused is false when the queue was not paused.',
    schema: sameShapeAs<ResumeResult>()(z.object({ queue: z.string(), wasPaused: z.boolean() })),
  },
  queues: {
    usage: 'jobstack queues --json',
    description: 'Each logical queue: paused or active, its event sources, and its depths.',
    schema: z.array(queueStatus.extend({ depths: queueStats.optional() })),
  },
  flow: {
    usage: 'jobstack flow --json',
    description: 'The flow control each job type declares (job types without any are left out).',
    schema: z.array(flowControlSummary),
  },
  'flow-state': {
    usage: 'jobstack flow <type> [--key K] --json',
    description: "The state of each of the job type's flow-control options for one key.",
    schema: flowState,
  },
  stats: {
    usage: 'jobstack stats --json',
    description: 'Queue depths, jobs per state and the paused queues, read once.',
    schema: statsWithPauses,
  },
  watch: {
    usage: 'jobstack watch --json',
    description:
      'One stats object per line (newline-delimited JSON), every --interval seconds; a failed read prints an error line on stderr instead.',
    schema: statsWithPauses,
  },
  metrics: {
    usage: 'jobstack metrics --json',
    description: "The stack's CloudWatch dashboard widgets, each series with its points over the window.",
    schema: dashboardMetricsSchema,
  },
  schedules: {
    usage: 'jobstack schedules --json',
    description: "The stack's recurring schedules, declared in the registry (owner stack) and created at runtime.",
    schema: z.array(scheduleInfo),
  },
  schedule: {
    usage: 'jobstack schedule <name> --cron C|--rate R <type> --payload <json> --json',
    description: 'The schedule created.',
    schema: scheduleInfo,
  },
  unschedule: {
    usage: 'jobstack unschedule <name> --json',
    description: 'deleted is false when there was no such schedule (then exit 1, with the error on stderr).',
    schema: z.object({ name: z.string(), deleted: z.boolean() }),
  },
  'local-up': {
    usage: 'jobstack local up --json',
    description: 'Where the local stack runs, and its outputs (progress goes to stderr).',
    schema: sameShapeAs<LocalStackUp>()(
      z.object({
        stackName: z.string(),
        endpoint: z.string(),
        startedByUs: z.boolean(),
        lambdaNodeVersion: z.string().nullable().describe('null when an emulator already answered'),
        metricsBridgePid: z.number().int(),
        outputs: z.record(z.string(), z.string()),
      }),
    ),
  },
  'local-down': {
    usage: 'jobstack local down --json',
    description: 'Whether an emulator and a metrics bridge started by jobstack were stopped.',
    schema: z.object({ stopped: z.boolean(), metricsBridgeStopped: z.boolean() }),
  },
  dashboard: {
    usage: 'jobstack dashboard --json',
    description: "One line once the server listens: its URL and the stack's name. It runs until Ctrl-C.",
    schema: z.object({ url: z.string(), stackName: z.string() }),
  },
} as const satisfies Record<string, { usage: string; description: string; schema: z.ZodType }>;

export type CliJsonOutputName = keyof typeof CLI_JSON_OUTPUTS;

/** What `name` prints with `--json`. */
export type CliJsonOutput<Name extends CliJsonOutputName> = DeepReadonly<z.output<(typeof CLI_JSON_OUTPUTS)[Name]['schema']>>;

/**
 * What every command writes to stderr, as one line, when it fails under `--json` (the exit code is not 0).
 * name: UsageError for a mistake in the command line, else the error's class (InvalidPayloadError, …).
 */
export const cliJsonErrorSchema = z.object({
  error: z.object({
    name: z.string(),
    message: z.string(),
    jobId: z.string().optional().describe('the job the error is about, when it is about one'),
  }),
});

export type CliJsonError = z.output<typeof cliJsonErrorSchema>;
