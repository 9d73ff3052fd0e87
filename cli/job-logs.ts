import { type CloudFormationClient, paginateListStackResources } from '@aws-sdk/client-cloudformation';
import { type CloudWatchLogsClient, paginateFilterLogEvents } from '@aws-sdk/client-cloudwatch-logs';
import { LOG_LINE_ENVELOPE_FIELDS } from './log-line-fields.js';

/** One log line of a job, as its function wrote it. */
export interface JobLogLine {
  /** ISO time CloudWatch Logs recorded for the line. */
  readonly timestamp: string;
  readonly logGroup: string;
  readonly level?: string;
  readonly message: string;
  readonly attempt?: number;
  /** Every other field of the structured line (error, durationMs, …). */
  readonly fields: Readonly<Record<string, unknown>>;
}

export interface JobLogQuery {
  readonly stackName: string;
  readonly jobId: string;
  /** Epoch ms: lines before it are not read (the job's creation time is a good bound). */
  readonly startTime: number;
  /** Stop after this many lines. */
  readonly limit: number;
}

/**
 * The log lines of one job, oldest first, from every log group of the stack's functions. Lines are
 * matched by the structured `jobId` field every jobstack logger adds (`ctx.logger` included): a
 * JSON filter pattern narrows the read on AWS, and each line is checked again here, so an emulator
 * that ignores JSON patterns gives the same answer, only more slowly.
 */
export async function readJobLogs(
  clients: { readonly cloudFormation: CloudFormationClient; readonly logs: CloudWatchLogsClient },
  query: JobLogQuery,
): Promise<JobLogLine[]> {
  const groups = await stackLogGroups(clients.cloudFormation, query.stackName);
  const perGroup = await Promise.all(groups.map((group) => readGroup(clients.logs, group, query)));
  return perGroup
    .flat()
    .sort((a, b) => a.timestamp.localeCompare(b.timestamp))
    .slice(0, query.limit);
}

/** The physical names of the stack's log groups. */
export async function stackLogGroups(cloudFormation: CloudFormationClient, stackName: string): Promise<string[]> {
  const groups: string[] = [];
  for await (const page of paginateListStackResources({ client: cloudFormation }, { StackName: stackName })) {
    for (const resource of page.StackResourceSummaries ?? []) {
      if (resource.ResourceType === 'AWS::Logs::LogGroup' && resource.PhysicalResourceId) {
        groups.push(resource.PhysicalResourceId);
      }
    }
  }
  return groups;
}

async function readGroup(logs: CloudWatchLogsClient, logGroup: string, query: JobLogQuery): Promise<JobLogLine[]> {
  const lines: JobLogLine[] = [];
  const pages = paginateFilterLogEvents(
    { client: logs },
    // Job ids hold only A-Z a-z 0-9 . _ : - (JobIdSchema), so quoting is enough.
    { logGroupName: logGroup, startTime: query.startTime, filterPattern: `{ $.jobId = "${query.jobId}" }` },
  );
  for await (const page of pages) {
    for (const event of page.events ?? []) {
      const line = jobLogLine(logGroup, event.timestamp ?? 0, event.message ?? '', query.jobId);
      if (line !== undefined) lines.push(line);
    }
    if (lines.length >= query.limit) break;
  }
  return lines;
}

/** The line as a `JobLogLine` when it is a structured line of `jobId`; otherwise undefined. */
export function jobLogLine(logGroup: string, timestamp: number, text: string, jobId: string): JobLogLine | undefined {
  const parsed = parseStructured(text);
  if (parsed === undefined || parsed.jobId !== jobId) return undefined;
  const fields: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(parsed)) if (!LOG_LINE_ENVELOPE_FIELDS.has(key)) fields[key] = value;
  return {
    timestamp: new Date(timestamp).toISOString(),
    logGroup,
    ...(typeof parsed.level === 'string' ? { level: parsed.level } : {}),
    message: typeof parsed.message === 'string' ? parsed.message : '',
    ...(typeof parsed.attempt === 'number' ? { attempt: parsed.attempt } : {}),
    fields,
  };
}

/**
 * The JSON object in a log line. Lambda may prefix a line written to stdout with its own
 * time, request id and level, tab-separated; the JSON is then the last field.
 */
function parseStructured(text: string): Record<string, unknown> | undefined {
  const start = text.indexOf('{');
  if (start === -1) return undefined;
  try {
    const value: unknown = JSON.parse(text.slice(start));
    return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

/** One line per log line: time, level, attempt, message, then the other fields compactly. */
export function formatJobLogLine(line: JobLogLine): string {
  const extra = Object.keys(line.fields).length === 0 ? '' : ` ${JSON.stringify(line.fields)}`;
  const attempt = line.attempt === undefined ? '' : ` #${line.attempt}`;
  return `${line.timestamp} ${(line.level ?? '-').padEnd(5)}${attempt} ${line.message}${extra}`;
}
