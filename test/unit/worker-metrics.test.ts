import { Metrics } from '@aws-lambda-powertools/metrics';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createWorkerMetrics, MetricsObserver } from '../../functions/worker/metrics.js';
import { JobMetric, METRICS_NAMESPACE } from '../../shared/metrics.js';

interface EmfLine {
  _aws: { CloudWatchMetrics: { Namespace: string; Dimensions: string[][]; Metrics: { Name: string; Unit: string }[] }[] };
  [key: string]: unknown;
}

describe('MetricsObserver', () => {
  let lines: EmfLine[];

  beforeEach(() => {
    lines = [];
    // Powertools writes EMF lines to stdout; capture them as the CloudWatch agent would read them.
    vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
      for (const line of String(chunk).split('\n').filter(Boolean)) {
        const parsed = JSON.parse(line) as EmfLine;
        if (parsed._aws) lines.push(parsed);
      }
      return true;
    });
  });

  afterEach(() => {
    vi.restoreAllMocks();
  });

  it('writes one line per job type and one per queue, once per invocation, not per event', () => {
    // GIVEN the worker's metrics for queue 'default' and an observer on them
    const metrics = createWorkerMetrics('default');
    const observer = new MetricsObserver(metrics);

    // WHEN a batch starts three jobs of two types, two succeed after 250 and 300 ms and one dies
    observer.started({ jobType: 'demo.echo', queue: 'default', attempt: 1 });
    observer.started({ jobType: 'demo.echo', queue: 'default', attempt: 1 });
    observer.started({ jobType: 'demo.fail', queue: 'default', attempt: 3 });
    observer.succeeded({ jobType: 'demo.echo', queue: 'default', attempt: 1 }, 250);
    observer.succeeded({ jobType: 'demo.echo', queue: 'default', attempt: 1 }, 300);
    observer.dead({ jobType: 'demo.fail', queue: 'default', attempt: 3 }, 'Error');
    expect(lines).toHaveLength(0);
    observer.flush();
    metrics.publishStoredMetrics();

    // THEN one line per job type, with counts summed and every duration kept for percentiles
    const perType = lines.filter((line) => 'JobType' in line);
    expect(perType).toHaveLength(2);
    for (const line of perType) {
      const [definition] = line._aws.CloudWatchMetrics;
      expect(definition?.Namespace).toBe(METRICS_NAMESPACE);
      expect(definition?.Dimensions).toEqual([expect.arrayContaining(['service', 'Queue', 'JobType'])]);
      expect(line.Queue).toBe('default');
    }
    expect(perType.find((line) => line.JobType === 'demo.echo')).toMatchObject({
      [JobMetric.started]: 2,
      [JobMetric.succeeded]: 2,
      [JobMetric.duration]: [250, 300],
    });
    expect(perType.find((line) => line.JobType === 'demo.fail')).toMatchObject({ [JobMetric.started]: 1, [JobMetric.dead]: 1 });

    // AND the invocation-end line sums the batch per queue, without a JobType dimension
    const perQueue = lines.at(-1);
    expect(perQueue?._aws.CloudWatchMetrics[0]?.Dimensions).toEqual([['service', 'Queue']]);
    expect(perQueue).toMatchObject({
      service: 'jobstack-worker',
      Queue: 'default',
      [JobMetric.started]: [1, 1, 1],
      [JobMetric.succeeded]: [1, 1],
      [JobMetric.dead]: 1,
      [JobMetric.duration]: [250, 300],
    });
    expect(perQueue).not.toHaveProperty('JobType');
  });

  it('names each job queue on every line for functions serving several queues', () => {
    const observer = new MetricsObserver(new Metrics({ namespace: METRICS_NAMESPACE, serviceName: 'jobstack-worker' }), {
      queueFromJob: true,
    });
    observer.dead({ jobType: 'demo.long', queue: 'reports', attempt: 2 }, 'LongJobFailed');
    observer.flush();
    expect(lines.map((line) => ({ Queue: line.Queue, JobType: line.JobType, dead: line[JobMetric.dead] }))).toEqual([
      { Queue: 'reports', JobType: 'demo.long', dead: 1 },
      { Queue: 'reports', JobType: undefined, dead: 1 },
    ]);
  });

  it('drops a non-finite duration instead of throwing into the job', () => {
    const metrics = createWorkerMetrics('default');
    const observer = new MetricsObserver(metrics);
    expect(() => observer.succeeded({ jobType: 'demo.echo', queue: 'default', attempt: 1 }, Number.NaN)).not.toThrow();
    observer.flush();
    const durations = lines.filter((line) => JobMetric.duration in line);
    expect(durations).toEqual([]);
  });
});
