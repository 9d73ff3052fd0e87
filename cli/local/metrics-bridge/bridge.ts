import { CloudFormationClient, paginateListStackResources } from '@aws-sdk/client-cloudformation';
import { CloudWatchClient, PutMetricDataCommand, type StandardUnit } from '@aws-sdk/client-cloudwatch';
import { CloudWatchLogsClient, FilterLogEventsCommand, ResourceNotFoundException } from '@aws-sdk/client-cloudwatch-logs';
import { GetFunctionConfigurationCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { ListExecutionsCommand, SFNClient } from '@aws-sdk/client-sfn';
import { GetQueueAttributesCommand, type QueueAttributeName, SQSClient } from '@aws-sdk/client-sqs';
import { localConnection } from '../../../shared/client/connection.js';
import type { Log } from '../emulator.js';
import { LogGroupCursor } from './log-cursor.js';
import {
  BRIDGED_METRICS,
  type Datum,
  emfData,
  executionData,
  failedRequestId,
  type LogEvent,
  lambdaErrorData,
  MetricSource,
  queueData,
} from './mapping.js';

/** How often the bridge samples queues and reads logs, by default. */
export const DEFAULT_BRIDGE_INTERVAL_MS = 5_000;
/** How often it looks for the stack's resources again (a redeploy may add queues and functions). */
const DISCOVERY_INTERVAL_MS = 30_000;
/** PutMetricData takes at most 1,000 data points per request. */
const PUT_BATCH = 500;
/** FilterLogEvents answers at most this many events per call on the emulator; a full answer is read again. */
const LOG_READ_LIMIT = 10_000;

export interface MetricsBridgeOptions {
  readonly endpoint: string;
  readonly stackName: string;
  /** @default DEFAULT_BRIDGE_INTERVAL_MS */
  readonly intervalMs?: number;
  /** Nothing logged or executed before this is bridged. @default - the bridge's start */
  readonly sinceMs?: number;
  /** @default - no output */
  readonly log?: Log;
}

/** What one tick published, by namespace and metric (for the log and tests). */
export interface TickReport {
  readonly published: number;
  readonly byMetric: Record<string, number>;
  readonly failures: readonly string[];
}

interface StackResources {
  readonly queueUrls: readonly string[];
  /** Log group name → the stack's functions logging there. */
  readonly logGroups: ReadonlyMap<string, readonly string[]>;
  readonly stateMachineArns: readonly string[];
}

/**
 * The local metrics bridge: what AWS would have measured for a stack on the emulator, put with PutMetricData
 * on the emulator every tick, as {@link BRIDGED_METRICS} lays out. Its puts are also what makes MiniStack
 * evaluate the alarms (it evaluates them on each PutMetricData).
 *
 * Local tooling only: `jobstack local up` starts it beside the emulator (see ./process.ts), never on AWS.
 *
 * @example
 * const bridge = new MetricsBridge({ endpoint: 'http://127.0.0.1:4566', stackName: 'jobstack', log: console.log });
 * await bridge.run(AbortSignal.timeout(60_000));
 */
export class MetricsBridge {
  private readonly sqs: SQSClient;
  private readonly lambda: LambdaClient;
  private readonly sfn: SFNClient;
  private readonly cloudFormation: CloudFormationClient;
  private readonly cloudWatch: CloudWatchClient;
  private readonly logs: CloudWatchLogsClient;
  private readonly sinceMs: number;
  private readonly cursors = new Map<string, LogGroupCursor>();
  private readonly countedFailures = new Set<string>();
  private readonly executions = new Map<string, 'started' | 'stopped'>();
  private resources: StackResources | undefined;
  private discoveredAt = 0;
  private readonly warned = new Set<string>();

  constructor(private readonly options: MetricsBridgeOptions) {
    const connection = localConnection(options.endpoint);
    this.sqs = new SQSClient(connection);
    this.lambda = new LambdaClient(connection);
    this.sfn = new SFNClient(connection);
    this.cloudFormation = new CloudFormationClient(connection);
    this.cloudWatch = new CloudWatchClient(connection);
    this.logs = new CloudWatchLogsClient(connection);
    this.sinceMs = options.sinceMs ?? Date.now();
  }

  /** Ticks every interval until `signal` aborts; a failed tick is logged and the next one runs. */
  async run(signal: AbortSignal): Promise<void> {
    const interval = this.options.intervalMs ?? DEFAULT_BRIDGE_INTERVAL_MS;
    const log = this.options.log ?? (() => {});
    log(
      `metrics bridge: stack '${this.options.stackName}' on ${this.options.endpoint}, every ${interval} ms; ` +
        `not bridged: ${BRIDGED_METRICS.filter(
          (row) => row.source === MetricSource.unavailable || row.source === MetricSource.emulator,
        )
          .map((row) => `${row.namespace} ${row.metric} (${row.from})`)
          .join('; ')}`,
    );
    while (!signal.aborted) {
      try {
        const report = await this.tick();
        for (const failure of report.failures) this.warnOnce(failure);
        if (report.published > 0 && Object.keys(report.byMetric).some((name) => !name.startsWith('AWS/SQS'))) {
          log(`metrics bridge: ${JSON.stringify(report.byMetric)}`);
        }
      } catch (error) {
        this.warnOnce(`metrics bridge: tick failed: ${error instanceof Error ? error.message : String(error)}`);
      }
      await new Promise<void>((resolve) => {
        const stop = () => {
          clearTimeout(timer);
          resolve();
        };
        const timer = setTimeout(() => {
          signal.removeEventListener('abort', stop);
          resolve();
        }, interval);
        signal.addEventListener('abort', stop, { once: true });
      });
    }
  }

  /** One round: sample the queues, read the new log events, list the executions, put what they measure. */
  async tick(): Promise<TickReport> {
    const failures: string[] = [];
    const resources = await this.discover();
    const now = Date.now();
    const data: Datum[] = [];
    const queueSamples = await Promise.all(
      resources.queueUrls.map(async (url) => {
        try {
          return await this.sampleQueue(url, now);
        } catch (error) {
          failures.push(`metrics bridge: queue ${url}: ${messageOf(error)}`);
          return [];
        }
      }),
    );
    data.push(...queueSamples.flat());
    for (const [group, functions] of resources.logGroups) {
      try {
        data.push(...(await this.readLogGroup(group, functions)));
      } catch (error) {
        failures.push(`metrics bridge: log group ${group}: ${messageOf(error)}`);
      }
    }
    for (const arn of resources.stateMachineArns) {
      try {
        data.push(...(await this.readExecutions(arn)));
      } catch (error) {
        failures.push(`metrics bridge: state machine ${arn}: ${messageOf(error)}`);
      }
    }
    await this.put(data);
    const byMetric: Record<string, number> = {};
    for (const datum of data) {
      const key = `${datum.namespace} ${datum.MetricName}`;
      byMetric[key] = (byMetric[key] ?? 0) + (datum.Values?.length ?? 1);
    }
    return { published: data.length, byMetric, failures };
  }

  private async discover(): Promise<StackResources> {
    if (this.resources && Date.now() - this.discoveredAt < DISCOVERY_INTERVAL_MS) return this.resources;
    const queueUrls: string[] = [];
    const functionNames: string[] = [];
    const logGroups = new Map<string, string[]>();
    const stateMachineArns: string[] = [];
    for await (const page of paginateListStackResources({ client: this.cloudFormation }, { StackName: this.options.stackName })) {
      for (const resource of page.StackResourceSummaries ?? []) {
        const id = resource.PhysicalResourceId;
        if (!id) continue;
        if (resource.ResourceType === 'AWS::SQS::Queue') queueUrls.push(id);
        else if (resource.ResourceType === 'AWS::Lambda::Function') functionNames.push(id);
        else if (resource.ResourceType === 'AWS::Logs::LogGroup') logGroups.set(id, logGroups.get(id) ?? []);
        else if (resource.ResourceType === 'AWS::StepFunctions::StateMachine') stateMachineArns.push(id);
      }
    }
    for (const name of functionNames) {
      const config = await this.lambda.send(new GetFunctionConfigurationCommand({ FunctionName: name }));
      const group = config.LoggingConfig?.LogGroup ?? `/aws/lambda/${name}`;
      logGroups.set(group, [...(logGroups.get(group) ?? []), name]);
    }
    this.resources = { queueUrls, logGroups, stateMachineArns };
    this.discoveredAt = Date.now();
    return this.resources;
  }

  private async sampleQueue(url: string, now: number): Promise<Datum[]> {
    const names = BRIDGED_METRICS.filter((row) => row.source === MetricSource.queueAttribute).map((row) => row.from);
    const output = await this.sqs.send(
      new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: names as QueueAttributeName[] }),
    );
    const attributes = output.Attributes ?? {};
    for (const name of names) {
      if (attributes[name as QueueAttributeName] === undefined) {
        this.warnOnce(
          `metrics bridge: the emulator does not answer the queue attribute ${name} (jobstack's MiniStack launcher does); not bridged`,
        );
      }
    }
    return queueData(url.slice(url.lastIndexOf('/') + 1), attributes, now);
  }

  private async readLogGroup(group: string, functions: readonly string[]): Promise<Datum[]> {
    let cursor = this.cursors.get(group);
    if (!cursor) {
      cursor = new LogGroupCursor(this.sinceMs);
      this.cursors.set(group, cursor);
    }
    const data: Datum[] = [];
    for (let read = 0; read < 20; read++) {
      let events: LogEvent[];
      try {
        const output = await this.logs.send(
          new FilterLogEventsCommand({ logGroupName: group, startTime: cursor.startTime(), limit: LOG_READ_LIMIT }),
        );
        events = (output.events ?? []).flatMap(({ logStreamName, timestamp, message }) =>
          logStreamName === undefined || timestamp === undefined || message === undefined
            ? []
            : [{ logStreamName, timestamp, message }],
        );
      } catch (error) {
        // A function's default log group appears with its first invocation.
        if (error instanceof ResourceNotFoundException) return data;
        throw error;
      }
      for (const event of cursor.take(events)) {
        data.push(...emfData(event.message));
        const requestId = failedRequestId(event.message);
        // A log group shared by several functions cannot say whose failure it is: only a group of one counts.
        if (requestId === undefined || functions.length !== 1 || this.countedFailures.has(requestId)) continue;
        this.countedFailures.add(requestId);
        data.push(lambdaErrorData(functions[0] as string, 1, event.timestamp));
      }
      if (events.length < LOG_READ_LIMIT) break;
    }
    if (this.countedFailures.size > 100_000) this.countedFailures.clear();
    return data;
  }

  private async readExecutions(stateMachineArn: string): Promise<Datum[]> {
    const data: Datum[] = [];
    let nextToken: string | undefined;
    do {
      const page = await this.sfn.send(new ListExecutionsCommand({ stateMachineArn, maxResults: 1000, nextToken }));
      for (const execution of page.executions ?? []) {
        if (!execution.executionArn || !execution.status || !execution.startDate) continue;
        data.push(
          ...executionData(
            {
              executionArn: execution.executionArn,
              stateMachineArn,
              status: execution.status,
              startDate: execution.startDate,
              stopDate: execution.stopDate,
            },
            this.executions,
            this.sinceMs,
          ),
        );
      }
      nextToken = page.nextToken;
    } while (nextToken);
    return data;
  }

  private async put(data: readonly Datum[]): Promise<void> {
    const byNamespace = new Map<string, Datum[]>();
    for (const datum of data) byNamespace.set(datum.namespace, [...(byNamespace.get(datum.namespace) ?? []), datum]);
    for (const [namespace, items] of byNamespace) {
      for (let start = 0; start < items.length; start += PUT_BATCH) {
        const MetricData = items
          .slice(start, start + PUT_BATCH)
          .map(({ namespace: _, Timestamp, Values, Dimensions, Unit, ...datum }) => ({
            ...datum,
            // mapping.ts emits CloudWatch's own unit names only (EMF units are checked against them).
            Unit: Unit as StandardUnit,
            Dimensions: [...Dimensions],
            Timestamp: new Date(Timestamp * 1000),
            ...(Values === undefined ? {} : { Values: [...Values] }),
          }));
        await this.cloudWatch.send(new PutMetricDataCommand({ Namespace: namespace, MetricData }));
      }
    }
  }

  private warnOnce(message: string): void {
    if (this.warned.has(message)) return;
    this.warned.add(message);
    (this.options.log ?? (() => {}))(message);
  }
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
