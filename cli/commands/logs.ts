import { parseArgs } from 'node:util';
import { CloudFormationClient } from '@aws-sdk/client-cloudformation';
import { CloudWatchLogsClient } from '@aws-sdk/client-cloudwatch-logs';
import { connectJobClient } from '../../shared/index.js';
import { connectionOptions, loadConnection } from '../connect.js';
import { UsageError } from '../errors.js';
import { formatJobLogLine, readJobLogs } from '../job-logs.js';
import { printJsonOutput } from '../json/print.js';

const DEFAULT_LIMIT = 1_000;
/** Lines written a little before the record's creation time (clock skew between functions) are kept. */
const CLOCK_MARGIN_MS = 60_000;

/** `jobstack logs <jobId> [--limit N] [--json]`: the job's log lines from CloudWatch Logs, oldest first. */
export async function logsCommand(argv: string[]): Promise<void> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: { ...connectionOptions, limit: { type: 'string' } },
  });
  const [jobId] = positionals;
  if (jobId === undefined || positionals.length > 1) throw new UsageError('usage: jobstack logs <jobId> [--limit N]');
  const limit = values.limit === undefined ? DEFAULT_LIMIT : Number(values.limit);
  if (!Number.isInteger(limit) || limit < 1) {
    throw new UsageError(`--limit must be a whole number of 1 or more (given '${values.limit}')`);
  }
  const { registry, stackName, aws } = await loadConnection(values);
  const jobs = await connectJobClient({ registry, stackName, aws });
  const record = await jobs.get(jobId);
  if (record === undefined) throw new UsageError(`job '${jobId}' not found`);
  const config = { ...aws, maxAttempts: 3 };
  const lines = await readJobLogs(
    { cloudFormation: new CloudFormationClient(config), logs: new CloudWatchLogsClient(config) },
    { stackName, jobId, startTime: Date.parse(record.createdAt) - CLOCK_MARGIN_MS, limit },
  );
  if (values.json) printJsonOutput('logs', lines);
  else if (lines.length === 0) process.stdout.write(`no log lines for job ${jobId} yet (state: ${record.state})\n`);
  else process.stdout.write(`${lines.map(formatJobLogLine).join('\n')}\n`);
}
