import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

/** Every .ts file under `folder`, relative to the repository root. */
function sources(folder: string): string[] {
  return readdirSync(join(root, folder), { recursive: true, encoding: 'utf8' })
    .filter((file) => file.endsWith('.ts'))
    .map((file) => join(folder, file));
}

/** The module specifiers a file imports or re-exports. */
function importsOf(file: string): string[] {
  const text = readFileSync(join(root, file), 'utf8');
  return [...text.matchAll(/(?:^|\n)\s*(?:import|export)\b[^'"]*?from\s+'([^']+)'/g)].map((match) => match[1] as string);
}

describe('public entry points', () => {
  // The runtime half of the public surface (the API report pins the types): a change here is a change for users.
  it('jobstack exports what defining jobs and enqueueing them needs, and nothing internal', async () => {
    expect(Object.keys(await import('jobstack')).sort()).toEqual([
      'BatchError',
      'CheckpointNotStorableError',
      'CheckpointTooLargeError',
      'ChildJobsFailedError',
      'ConfigurationError',
      'DashboardBodyError',
      'ENQUEUE_EVENT_DETAIL_TYPE',
      'EnqueueError',
      'EnqueueEventDetailSchema',
      'EventSourceUpdateError',
      'FlowCancelReason',
      'FlowErrorName',
      'FlowJobsTooLargeError',
      'FlowKeyError',
      'IllegalTransitionError',
      'InvalidArgumentError',
      'InvalidDurationError',
      'InvalidEnqueueEventError',
      'InvalidEnvelopeError',
      'InvalidFairnessKeyError',
      'InvalidFlowJobError',
      'InvalidFlowKeyError',
      'InvalidFlowOptionError',
      'InvalidLongJobError',
      'InvalidOrderingKeyError',
      'InvalidPayloadError',
      'InvalidPriorityError',
      'InvalidScheduleError',
      'InvalidTriggerError',
      'JobCancelledError',
      'JobErrorName',
      'JobNotFoundError',
      'JobState',
      'JobTimeoutError',
      'JobstackError',
      'LEAN_JOB_ID_PREFIX',
      'LIFECYCLE_EVENT_SOURCE',
      'LIFECYCLE_SUMMARY_MAX_BYTES',
      'LOCAL_ENDPOINT',
      'LeanEnqueueRefusedError',
      'LeaseLostError',
      'LifecycleDetailType',
      'LifecycleErrorSummarySchema',
      'LifecycleEventDetailSchema',
      'MAX_BATCH_MEMBERS',
      'MAX_FLOW_JOBS_PER_ATTEMPT',
      'MessageDeferredError',
      'MetricsReadError',
      'NonRetryableError',
      'OPTIONAL_LIFECYCLE_EVENTS',
      'OutcomeNotRecordedError',
      'PayloadTooLargeError',
      'ScheduleError',
      'StepOutcomeUnknownError',
      'TooManyFlowJobsError',
      'TriggerMappingError',
      'UnknownJobTypeError',
      'UnknownQueueError',
      'WaitTimeoutError',
      'configFromOutputs',
      'connectJobClient',
      'createCloudWatchReader',
      'createJobClient',
      'dashboardMetricsSchema',
      'defineConfig',
      'defineJob',
      'defineJobContract',
      'defineLongJob',
      'defineLongJobContract',
      'defineRegistry',
      'implementJob',
      'implementLongJob',
      'isLeanJobId',
      'isTerminal',
      'jobClientFromEnvironment',
      'lifecycleDetailJsonSchemas',
      'lifecycleDetailSchemaOf',
      'lifecycleEventIdempotencyKey',
      'localConnection',
      'readDashboardMetrics',
    ]);
  });

  it('jobstack/worker exports the six handler factories only', async () => {
    expect(Object.keys(await import('jobstack/worker')).sort()).toEqual([
      'createDashboardApiHandler',
      'createDeadLetterHandler',
      'createEventIntakeHandler',
      'createEventPublisherHandler',
      'createFlowCoordinatorHandler',
      'createLongJobStepHandler',
      'createSweeperHandler',
      'createWorkerHandler',
    ]);
  });
});

describe('library and demo stay apart', () => {
  it('no library module imports the demo jobs', () => {
    const library = [...sources('entrypoints'), ...sources('shared'), ...sources('functions')].filter(
      (file) => !file.startsWith('functions/jobs/'),
    );
    const offenders = library.flatMap((file) =>
      importsOf(file)
        .filter((specifier) => specifier.startsWith('.'))
        .map((specifier) => relative(root, resolve(root, dirname(file), specifier)))
        .filter((target) => target.startsWith('functions/jobs/'))
        .map((target) => `${file} → ${target}`),
    );
    expect(offenders).toEqual([]);
    expect(library.length).toBeGreaterThan(50);
  });

  it('the demo imports jobstack only by its public names, never by path into library folders', () => {
    // The demo app: its jobs, its CDK app and its workload script.
    const demo = [...sources('functions/jobs'), ...sources('demo'), 'infra/app.ts', 'infra/jobstack-stack.ts'];
    const demoFiles = new Set(demo);
    const offenders = demo.flatMap((file) =>
      importsOf(file)
        .filter((specifier) => specifier.startsWith('.'))
        .map((specifier) => relative(root, resolve(root, dirname(file), specifier)))
        .filter((target) => !demoFiles.has(target.replace(/\.js$/, '.ts')))
        .map((target) => `${file} → ${target}`),
    );
    expect(offenders).toEqual([]);
    expect(demo.flatMap(importsOf)).toEqual(expect.arrayContaining(['jobstack', 'jobstack/worker', 'jobstack/cdk']));
  });
});
