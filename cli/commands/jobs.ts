import { parseArgs } from 'node:util';
import { isJobState, JOB_STATES, type JobRecord, type JobState, parseDuration, WaitTimeoutError } from '../../shared/index.js';
import { connect, connectionOptions } from '../connect.js';
import { ExitCode, UsageError } from '../errors.js';
import { formatRecord, formatTable, summarize } from '../format.js';
import { printJsonOutput } from '../json/print.js';
import { ProgressLine } from '../progress.js';

export async function enqueueCommand(argv: string[]): Promise<void> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      ...connectionOptions,
      payload: { type: 'string' },
      delay: { type: 'string' },
      'run-at': { type: 'string' },
      'job-id': { type: 'string' },
      'idempotency-key': { type: 'string' },
      'idempotency-window': { type: 'string' },
      priority: { type: 'string' },
    },
  });
  const [type] = positionals;
  if (!type || positionals.length > 1)
    throw new UsageError(
      'usage: jobstack enqueue <type> --payload <json> [--delay D | --run-at ISO] [--job-id ID] ' +
        '[--idempotency-key K [--idempotency-window 24h]] [--priority LEVEL]',
    );
  const runAt = values['run-at'] === undefined ? undefined : new Date(values['run-at']);
  if (runAt !== undefined && Number.isNaN(runAt.getTime()))
    throw new UsageError(`--run-at must be an ISO date-time such as 2026-03-22T18:00:00Z (given '${values['run-at']}')`);
  const payload = parseJsonOption('--payload', values.payload ?? '{}');
  // Malformed durations fail here, before any stack is reached (the SDK checks them again, with its limits).
  for (const duration of [values.delay, values['idempotency-window']]) if (duration !== undefined) parseDuration(duration);
  const jobs = await connect(values);
  const enqueued = await jobs.enqueue(type as never, payload as never, {
    ...(values.delay === undefined ? {} : { delay: values.delay as never }),
    ...(runAt === undefined ? {} : { runAt }),
    ...(values['job-id'] === undefined ? {} : { jobId: values['job-id'] }),
    ...(values['idempotency-key'] === undefined ? {} : { idempotencyKey: values['idempotency-key'] }),
    ...(values['idempotency-window'] === undefined ? {} : { idempotencyWindow: values['idempotency-window'] as never }),
    ...(values.priority === undefined ? {} : { priority: values.priority }),
  });
  if (values.json) printJsonOutput('enqueue', enqueued);
  else if (enqueued.throttledBy !== undefined)
    process.stdout.write(`${enqueued.jobId} (cancelled: throttled, job ${enqueued.throttledBy} holds the key)\n`);
  else process.stdout.write(`${enqueued.jobId}${enqueued.created ? '' : ' (already existed)'}\n`);
}

export async function getCommand(argv: string[]): Promise<void> {
  const { values, positionals } = parseArgs({ args: argv, allowPositionals: true, options: connectionOptions });
  const jobId = singleJobId(positionals, 'get');
  const jobs = await connect(values);
  const record = await jobs.get(jobId);
  if (!record) throw new UsageError(`job '${jobId}' not found`);
  if (values.json) printJsonOutput('get', record);
  else {
    const children = record.waitingFor === undefined ? undefined : await jobs.getBatch(record.waitingFor);
    process.stdout.write(`${formatRecord(record, children === undefined ? {} : { children })}\n`);
  }
}

/** Exit codes: 0 succeeded, 1 ended otherwise (dead, cancelled), 2 timed out. */
export async function waitCommand(argv: string[]): Promise<void> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: { ...connectionOptions, timeout: { type: 'string', default: '60s' } },
  });
  const jobId = singleJobId(positionals, 'wait');
  parseDuration(values.timeout); // a malformed --timeout fails before any stack is reached
  const jobs = await connect(values);
  if (!(await jobs.get(jobId))) throw new UsageError(`job '${jobId}' not found`);
  const progress = values.json ? undefined : new ProgressLine(process.stderr);
  let record: JobRecord;
  try {
    record = await jobs.wait(jobId, {
      timeout: values.timeout as never,
      onUpdate: (update) => progress?.update(describeWaitState(update), update.progress?.percent),
    });
  } catch (error) {
    if (!(error instanceof WaitTimeoutError)) throw error;
    progress?.done();
    if (values.json) printJsonOutput('wait', { jobId, timedOut: true, lastState: error.lastState });
    else process.stderr.write(`${error.message}\n`);
    throw new ExitCode(2);
  }
  progress?.done();
  if (values.json) printJsonOutput('wait', record);
  else process.stdout.write(`${formatRecord(record)}\n`);
  if (record.state !== 'succeeded') throw new ExitCode(1);
}

export async function listCommand(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: {
      ...connectionOptions,
      state: { type: 'string' },
      type: { type: 'string' },
      limit: { type: 'string', default: '20' },
      cursor: { type: 'string' },
    },
  });
  let state: JobState | undefined;
  if (values.state !== undefined) {
    if (!isJobState(values.state))
      throw new UsageError(`--state must be one of ${JOB_STATES.join(', ')} (given '${values.state}')`);
    state = values.state;
  }
  const limit = Number(values.limit);
  if (!Number.isInteger(limit) || limit < 1 || limit > 1000)
    throw new UsageError(`--limit must be 1..1000 (given '${values.limit}')`);
  const jobs = await connect(values);
  const page = await jobs.list({
    limit,
    ...(state === undefined ? {} : { state }),
    ...(values.type === undefined ? {} : { type: values.type }),
    ...(values.cursor === undefined ? {} : { cursor: values.cursor }),
  });
  if (values.json) {
    printJsonOutput('list', page);
    return;
  }
  // A PRIORITY column only when a job on the page has one (queues with priority levels).
  const withPriority = page.jobs.some((job) => job.priority !== undefined);
  const rows = page.jobs.map((job) => [
    job.id,
    job.type,
    job.state,
    ...(withPriority ? [job.priority ?? '-'] : []),
    `${job.attempts}/${job.maxAttempts}`,
    job.updatedAt,
    summarize(job.error?.message ?? job.result ?? '', 50),
  ]);
  const headers = ['ID', 'TYPE', 'STATE', ...(withPriority ? ['PRIORITY'] : []), 'ATTEMPTS', 'UPDATED', 'RESULT / ERROR'];
  process.stdout.write(`${formatTable(headers, rows)}\n`);
  if (page.cursor) process.stdout.write(`more: --cursor ${page.cursor}\n`);
}

export async function cancelCommand(argv: string[]): Promise<void> {
  const { values, positionals } = parseArgs({ args: argv, allowPositionals: true, options: connectionOptions });
  const jobId = singleJobId(positionals, 'cancel');
  const jobs = await connect(values);
  const result = await jobs.cancel(jobId);
  if (result.outcome === 'not-found') throw new UsageError(`job '${jobId}' not found`);
  if (values.json) printJsonOutput('cancel', { jobId, outcome: result.outcome, state: result.record.state });
  else {
    const messages = {
      cancelled: 'cancelled',
      requested: 'running: asked to stop; it ends cancelled at its next check',
      finished: `already finished (${result.record.state}); nothing to cancel`,
    } as const;
    process.stdout.write(`${jobId}: ${messages[result.outcome]}\n`);
  }
}

function describeWaitState(record: JobRecord): string {
  const attempt = record.attempts > 0 ? ` (attempt ${record.attempts}/${record.maxAttempts})` : '';
  return `${record.id} ${record.state}${attempt}`;
}

function singleJobId(positionals: string[], command: string): string {
  const [jobId] = positionals;
  if (!jobId || positionals.length > 1) throw new UsageError(`usage: jobstack ${command} <jobId>`);
  return jobId;
}

function parseJsonOption(name: string, text: string): unknown {
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new UsageError(`${name} is not valid JSON: ${(error as Error).message}`);
  }
}

export async function retryCommand(argv: string[]): Promise<void> {
  const { values, positionals } = parseArgs({ args: argv, allowPositionals: true, options: connectionOptions });
  const jobId = singleJobId(positionals, 'retry');
  const jobs = await connect(values);
  const { outcome, state } = await jobs.retry(jobId);
  if (outcome === 'not-found') throw new UsageError(`job '${jobId}' not found`);
  if (values.json) printJsonOutput('retry', { jobId, outcome, ...(state === undefined ? {} : { state }) });
  else if (outcome === 'requeued') process.stdout.write(`${jobId}: requeued for a new series of attempts\n`);
  else process.stdout.write(`${jobId}: not dead (${state}); nothing to retry\n`);
  if (outcome === 'not-dead') throw new ExitCode(1);
}

/**
 * A person's verdict on a `ctx.once` step whose outcome was unknown (the job
 * died with StepOutcomeUnknownError): it happened, with this result, or it did
 * not and may run again. `--retry` then re-runs the dead job.
 */
export async function resolveStepCommand(argv: string[]): Promise<void> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: { ...connectionOptions, result: { type: 'string' }, rerun: { type: 'boolean' }, retry: { type: 'boolean' } },
  });
  const [jobId, step] = positionals;
  const usage = 'usage: jobstack resolve-step <jobId> <step> (--result <json> | --rerun) [--retry]';
  if (!jobId || !step || positionals.length > 2) throw new UsageError(usage);
  if ((values.result === undefined) === (values.rerun !== true))
    throw new UsageError(`give exactly one of --result and --rerun; ${usage}`);
  const resolution =
    values.result === undefined ? { rerun: true as const } : { result: parseJsonOption('--result', values.result) };
  const jobs = await connect(values);
  const resolved = await jobs.resolveStep(jobId, step, resolution);
  if (!resolved)
    throw new UsageError(`step '${step}' of job '${jobId}' is not waiting for a verdict (completed, or never started)`);
  const retried = values.retry ? await jobs.retry(jobId) : undefined;
  if (values.json)
    printJsonOutput('resolve-step', { jobId, step, resolved, ...(retried === undefined ? {} : { retry: retried.outcome }) });
  else {
    const verdict = 'result' in resolution ? 'recorded as done' : 'will run again';
    process.stdout.write(`${jobId}: step '${step}' ${verdict}${retried === undefined ? '' : `; retry: ${retried.outcome}`}\n`);
  }
  if (retried !== undefined && retried.outcome !== 'requeued') throw new ExitCode(1);
}

export async function redriveCommand(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: {
      ...connectionOptions,
      queue: { type: 'string' },
      error: { type: 'string' },
      limit: { type: 'string', default: '1000' },
    },
  });
  const limit = Number(values.limit);
  if (!Number.isInteger(limit) || limit < 1) throw new UsageError(`--limit must be a positive integer (given '${values.limit}')`);
  const jobs = await connect(values);
  const result = await jobs.redrive({
    limit,
    ...(values.queue === undefined ? {} : { queue: values.queue }),
    ...(values.error === undefined ? {} : { errorName: values.error }),
  });
  if (values.json) printJsonOutput('redrive', result);
  else {
    process.stdout.write(
      `moved ${result.moved} message(s) back to their queue; discarded ${result.discarded} stale copies; left ${result.leftInPlace} in the dead-letter queue\n`,
    );
  }
}
