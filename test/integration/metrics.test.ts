/** `jobstack metrics --json` against the emulator: data put on the dashboard's own metrics comes back per widget. */
import { describe, expect, it } from 'vitest';
import { parseCliJson } from '../helpers/cli-json.js';
import { runCli, uniqueName } from './helpers.js';
import { defaultQueueName, minuteAgo, putMetricData } from './metric-data.js';

describe('jobstack metrics', () => {
  it('reads back, through the dashboard’s widgets, data put on their metrics, dimensions and period', async () => {
    // Metrics no alarm watches (the emulator evaluates alarms by name, ignoring dimensions), at minutes
    // before this run so no other test's data shares the periods; a job type of its own for the SEARCH widget.
    const jobType = uniqueName('metrics-cli');
    const queueName = await defaultQueueName();
    const [first, second] = [minuteAgo(50), minuteAgo(40)];
    const worker = { service: 'jobstack-worker', Queue: 'default' };
    await putMetricData('Jobstack', [
      { MetricName: 'JobsStarted', Dimensions: { ...worker, JobType: jobType }, Value: 3, Timestamp: first },
      { MetricName: 'JobsStarted', Dimensions: { ...worker, JobType: jobType }, Value: 2, Timestamp: first },
      { MetricName: 'JobsStarted', Dimensions: { ...worker, JobType: jobType }, Value: 6, Timestamp: second },
    ]);
    await putMetricData('AWS/SQS', [
      { MetricName: 'ApproximateNumberOfMessagesDelayed', Dimensions: { QueueName: queueName }, Value: 4, Timestamp: first },
      { MetricName: 'ApproximateNumberOfMessagesDelayed', Dimensions: { QueueName: queueName }, Value: 9, Timestamp: first },
    ]);

    const { code, stdout, stderr } = await runCli(['metrics', '--json', '--since', '1h', '--period', '1m']);
    expect(stderr).toBe('');
    expect(code).toBe(0);
    const metrics = parseCliJson('metrics', stdout);
    const widget = (title: string) => metrics.widgets.find((w) => w.title === title);

    // The SEARCH widget: one series for this job type, summed per minute.
    const started = widget('Jobs by outcome and type')?.series.find(
      (s) => s.label.startsWith('JobsStarted') && s.label.includes(jobType),
    );
    expect(started).toMatchObject({ stat: 'Sum', periodSeconds: 60, status: 'Complete', latest: 6 });
    expect(started?.points).toEqual([
      { timestamp: first.toISOString(), value: 5 },
      { timestamp: second.toISOString(), value: 6 },
    ]);
    // The queue depth widget: the delayed series, its maximum per minute.
    const delayed = widget("Queue 'default': depth")?.series.find((s) => s.label === 'delayed');
    expect(delayed).toMatchObject({ stat: 'Maximum', periodSeconds: 60, status: 'Complete' });
    expect(delayed?.points).toContainEqual({ timestamp: first.toISOString(), value: 9 });
  });

  it('fails with one line and exit 1 on a bad flag', async () => {
    const { code, stdout, stderr } = await runCli(['metrics', '--since', 'soon']);
    expect(code).toBe(1);
    expect(stdout).toBe('');
    expect(stderr).toBe("jobstack: --since must be a duration like 30m, 1h or 2d (given 'soon')\n");
  });
});
