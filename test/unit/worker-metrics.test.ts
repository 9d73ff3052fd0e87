import { afterEach, describe, expect, it, vi } from 'vitest';
import { emfData } from '../../cli/local/metrics-bridge/mapping.js';
import { MetricsObserver } from '../../functions/worker/metrics.js';
import { JobMetric, METRICS_NAMESPACE } from '../../shared/metrics.js';

interface EmfLine {
  _aws: {
    Timestamp: number;
    CloudWatchMetrics: { Namespace: string; Dimensions: string[][]; Metrics: { Name: string; Unit: string }[] }[];
  };
  [key: string]: unknown;
}

const QUEUE_SET = ['service', 'Queue'];
const TYPE_SET = ['service', 'Queue', 'JobType'];
const echo = { jobType: 'demo.echo', queue: 'default', attempt: 1 };
const fail = { jobType: 'demo.fail', queue: 'default', attempt: 3 };

/** An observer whose writes are captured, as the CloudWatch agent reads them: one write per invocation. */
function capturing(env: NodeJS.ProcessEnv = {}) {
  const writes: string[] = [];
  const observer = new MetricsObserver({ write: (text) => writes.push(text), env });
  const lines = (): EmfLine[] =>
    writes.flatMap((text) => text.split('\n').filter((line) => line !== '')).map((line) => JSON.parse(line) as EmfLine);
  return { observer, writes, lines };
}

function directive(line: EmfLine | undefined) {
  return line?._aws.CloudWatchMetrics[0];
}

describe('MetricsObserver', () => {
  afterEach(() => {
    vi.restoreAllMocks();
  });

  it('writes an invocation of one job type as ONE line under both dimension sets', () => {
    // GIVEN an observer
    const { observer, writes, lines } = capturing();

    // WHEN a batch starts three demo.echo jobs, two succeed after 250 and 300 ms and one is retried
    for (let i = 0; i < 3; i++) observer.started(echo);
    observer.succeeded(echo, 250);
    observer.succeeded(echo, 300);
    observer.retried(echo, 1_000);
    expect(writes).toHaveLength(0);
    observer.flush();

    // THEN one write of one line: the queue set and the job-type set share its summed counts and every duration
    expect(writes).toHaveLength(1);
    expect(lines()).toHaveLength(1);
    const [line] = lines();
    expect(Object.keys(line ?? {})[0]).toBe('_aws');
    expect(directive(line)).toEqual({
      Namespace: METRICS_NAMESPACE,
      Dimensions: [QUEUE_SET, TYPE_SET],
      Metrics: [
        { Name: JobMetric.started, Unit: 'Count' },
        { Name: JobMetric.succeeded, Unit: 'Count' },
        { Name: JobMetric.duration, Unit: 'Milliseconds' },
        { Name: JobMetric.retried, Unit: 'Count' },
      ],
    });
    expect(line).toMatchObject({
      service: 'jobstack-worker',
      Queue: 'default',
      JobType: 'demo.echo',
      [JobMetric.started]: 3,
      [JobMetric.succeeded]: 2,
      [JobMetric.retried]: 1,
      [JobMetric.duration]: [250, 300],
    });
    expect(typeof line?._aws.Timestamp).toBe('number');

    // AND the next invocation starts empty: nothing recorded, nothing written
    observer.flush();
    expect(writes).toHaveLength(1);
  });

  it('writes several job types of one queue as a line per type plus a line of the queue sums', () => {
    const { observer, writes, lines } = capturing();
    observer.started(echo);
    observer.started(echo);
    observer.started(fail);
    observer.succeeded(echo, 250);
    observer.succeeded(echo, 300);
    observer.dead(fail, 'Error');
    observer.cancelled(echo);
    observer.flush();

    // One write per invocation, whatever the number of lines.
    expect(writes).toHaveLength(1);
    const [echoLine, failLine, queueLine, ...rest] = lines();
    expect(rest).toEqual([]);
    expect(directive(echoLine)?.Dimensions).toEqual([TYPE_SET]);
    expect(echoLine).toMatchObject({
      JobType: 'demo.echo',
      [JobMetric.started]: 2,
      [JobMetric.succeeded]: 2,
      [JobMetric.cancelled]: 1,
      [JobMetric.duration]: [250, 300],
    });
    expect(echoLine).not.toHaveProperty(JobMetric.dead);
    expect(directive(failLine)?.Dimensions).toEqual([TYPE_SET]);
    expect(failLine).toMatchObject({ JobType: 'demo.fail', [JobMetric.started]: 1, [JobMetric.dead]: 1 });
    expect(failLine).not.toHaveProperty(JobMetric.duration);

    // The queue line: no JobType, the sums over both types (what the per-queue alarms watch).
    expect(directive(queueLine)?.Dimensions).toEqual([QUEUE_SET]);
    expect(queueLine).not.toHaveProperty('JobType');
    expect(queueLine).toMatchObject({
      service: 'jobstack-worker',
      Queue: 'default',
      [JobMetric.started]: 3,
      [JobMetric.succeeded]: 2,
      [JobMetric.cancelled]: 1,
      [JobMetric.dead]: 1,
      [JobMetric.duration]: [250, 300],
    });
  });

  it('names each job queue for functions serving several queues (long-job step, event intake)', () => {
    const { observer, lines } = capturing();
    observer.dead({ jobType: 'demo.long', queue: 'reports', attempt: 2 }, 'LongJobFailed');
    observer.retried({ jobType: 'demo.long', queue: 'reports', attempt: 2 }, 5_000);
    observer.dead({ jobType: 'demo.echo', queue: 'default', attempt: 0 }, 'Refused');
    observer.flush();
    expect(
      lines().map((line) => ({
        sets: directive(line)?.Dimensions,
        Queue: line.Queue,
        JobType: line.JobType,
        dead: line[JobMetric.dead],
        retried: line[JobMetric.retried],
      })),
    ).toEqual([
      { sets: [QUEUE_SET, TYPE_SET], Queue: 'reports', JobType: 'demo.long', dead: 1, retried: 1 },
      { sets: [QUEUE_SET, TYPE_SET], Queue: 'default', JobType: 'demo.echo', dead: 1, retried: undefined },
    ]);
  });

  it('keeps every duration, at most 100 values of a metric per line as EMF allows', () => {
    const { observer, writes, lines } = capturing();
    const durations = Array.from({ length: 230 }, (_, i) => i + 1);
    for (const duration of durations) {
      observer.started(echo);
      observer.succeeded(echo, duration);
    }
    observer.flush();
    expect(writes).toHaveLength(1);
    const written = lines();
    expect(written.map((line) => (line[JobMetric.duration] as number[]).length)).toEqual([100, 100, 30]);
    expect(written.flatMap((line) => line[JobMetric.duration] as number[])).toEqual(durations);
    // Counts once, on the first line; the further lines name only the durations they carry.
    expect(written.map((line) => line[JobMetric.succeeded])).toEqual([230, undefined, undefined]);
    expect(written.map((line) => directive(line)?.Metrics.map((metric) => metric.Name))).toEqual([
      [JobMetric.started, JobMetric.succeeded, JobMetric.duration],
      [JobMetric.duration],
      [JobMetric.duration],
    ]);
    for (const line of written) expect(directive(line)?.Dimensions).toEqual([QUEUE_SET, TYPE_SET]);
  });

  it('drops a non-finite duration instead of throwing into the job', () => {
    const { observer, lines } = capturing();
    expect(() => observer.succeeded(echo, Number.NaN)).not.toThrow();
    observer.flush();
    expect(lines().map((line) => line[JobMetric.duration])).toEqual([undefined]);
    expect(lines()[0]).toMatchObject({ [JobMetric.succeeded]: 1 });
  });

  it('writes nothing when Powertools metrics are disabled (POWERTOOLS_METRICS_DISABLED, else POWERTOOLS_DEV)', () => {
    for (const env of [{ POWERTOOLS_METRICS_DISABLED: 'true' }, { POWERTOOLS_DEV: '1' }]) {
      const { observer, writes } = capturing(env);
      observer.started(echo);
      observer.flush();
      expect(writes).toEqual([]);
    }
    const { observer, writes } = capturing({ POWERTOOLS_DEV: 'true', POWERTOOLS_METRICS_DISABLED: 'false' });
    observer.started(echo);
    observer.flush();
    expect(writes).toHaveLength(1);
  });

  it('writes to stdout by default, lines the local metrics bridge reads as CloudWatch would', () => {
    const written: string[] = [];
    vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
      written.push(String(chunk));
      return true;
    });
    const observer = new MetricsObserver({ env: {} });
    observer.started(echo);
    observer.succeeded(echo, 42);
    observer.flush();
    expect(written).toHaveLength(1);
    const data = emfData((written[0] ?? '').trimEnd());
    // Both dimension sets of the one line, every metric under each.
    expect(data.map((datum) => [datum.MetricName, datum.Dimensions.map((d) => d.Name).join(','), datum.Values])).toEqual([
      [JobMetric.started, 'service,Queue', [1]],
      [JobMetric.succeeded, 'service,Queue', [1]],
      [JobMetric.duration, 'service,Queue', [42]],
      [JobMetric.started, 'service,Queue,JobType', [1]],
      [JobMetric.succeeded, 'service,Queue,JobType', [1]],
      [JobMetric.duration, 'service,Queue,JobType', [42]],
    ]);
  });
});
