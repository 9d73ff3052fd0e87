import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { JobObserver } from '../../functions/worker/job-observer.js';
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

  it('publishes each event at once per job type, and per queue when the invocation ends', () => {
    // GIVEN the worker's metrics for queue 'default' and an observer on them
    const metrics = createWorkerMetrics('default');
    const observer: JobObserver = new MetricsObserver(metrics);

    // WHEN a batch starts two jobs of different types, one succeeds after 250 ms and one dies
    observer.started({ jobType: 'demo.echo', queue: 'default', attempt: 1 });
    observer.started({ jobType: 'demo.fail', queue: 'default', attempt: 3 });
    observer.succeeded({ jobType: 'demo.echo', queue: 'default', attempt: 1 }, 250);
    observer.dead({ jobType: 'demo.fail', queue: 'default', attempt: 3 }, 'Error');
    const perTypeLines = lines.length;
    metrics.publishStoredMetrics();

    // THEN every event produced a per-type line right away, with the JobType dimension
    expect(perTypeLines).toBe(5); // 2 started, succeeded + duration, dead
    const perType = lines.slice(0, perTypeLines);
    for (const line of perType) {
      const [definition] = line._aws.CloudWatchMetrics;
      expect(definition?.Namespace).toBe(METRICS_NAMESPACE);
      expect(definition?.Dimensions).toEqual([['service', 'Queue', 'JobType']]);
      expect(line.Queue).toBe('default');
    }
    expect(perType.find((line) => line.JobType === 'demo.fail' && line[JobMetric.dead] === 1)).toBeDefined();
    expect(perType.find((line) => line.JobType === 'demo.echo' && line[JobMetric.duration] === 250)).toBeDefined();

    // AND the invocation-end line sums the batch per queue, without a JobType dimension
    const perQueue = lines.at(-1);
    expect(perQueue?._aws.CloudWatchMetrics[0]?.Dimensions).toEqual([['service', 'Queue']]);
    expect(perQueue).toMatchObject({
      service: 'jobstack-worker',
      Queue: 'default',
      [JobMetric.started]: [1, 1],
      [JobMetric.succeeded]: 1,
      [JobMetric.dead]: 1,
      [JobMetric.duration]: 250,
    });
    expect(perQueue).not.toHaveProperty('JobType');
  });

  it('drops a non-finite duration instead of throwing into the job', () => {
    const metrics = createWorkerMetrics('default');
    const observer: JobObserver = new MetricsObserver(metrics);
    expect(() => observer.succeeded({ jobType: 'demo.echo', queue: 'default', attempt: 1 }, Number.NaN)).not.toThrow();
    const durations = lines.filter((line) => JobMetric.duration in line);
    expect(durations).toEqual([]);
  });
});
