import {
  type AttributeValue,
  DescribeTableCommand,
  type DynamoDBClient,
  GetItemCommand,
  type TableDescription,
} from '@aws-sdk/client-dynamodb';
import { marshall } from '@aws-sdk/util-dynamodb';
import type { BuildHandlerOutput, BuildMiddleware, MiddlewareStack } from '@smithy/types';
import { type IndexShape, type Item, indexWrites, itemSize, readUnits, tableWriteUnits } from './dynamodb-units.js';

/** SQS bills a request per started 64 KB of payload. */
export const SQS_CHUNK_BYTES = 64 * 1_024;

/** What one metered (or modelled) request cost, in billable units. */
export interface RequestCharge {
  /** `SQS`, `DynamoDB`, `Lambda`, `Scheduler`, `StepFunctions`, `S3`, ... */
  readonly service: string;
  readonly operation: string;
  /** Number of calls this charge stands for (fractional for modelled calls shared by a batch). */
  readonly calls: number;
  /** Billed SQS requests (64 KB chunks), Lambda invocations, Scheduler invocations, Step Functions transitions, S3 requests. */
  readonly billedRequests: number;
  readonly writeUnits: number;
  readonly indexWriteUnits: number;
  readonly readUnits: number;
  /** True when the call was not observed but modelled from documented behaviour (event source mapping, ...). */
  readonly modelled: boolean;
}

interface WriteTarget {
  readonly table: string;
  readonly key: Item;
  /** Transactions bill twice the units. */
  readonly factor: number;
}

/** Any SDK v3 client (a DynamoDBDocumentClient shares its underlying client's stack). */
type MeteredClient = { middlewareStack: Pick<MiddlewareStack<object, object>, 'add'> };

/**
 * Counts every AWS request made through the clients it is attached to, and
 * what DynamoDB would bill for each: write units from the item sizes before and
 * after every write (read with a separate, unmetered client), index write units
 * from the table's global secondary indexes, and read units from what was read.
 *
 * Measuring sizes this way (rather than trusting an emulator's
 * `ConsumedCapacity`) applies AWS's documented rules to the real items the code
 * writes, whatever shape they take as the code changes.
 *
 * @example
 * const meter = new RequestMeter(inspectorDynamoClient);
 * meter.attach(sqsClient, 'SQS');
 * meter.attach(dynamoClient, 'DynamoDB');
 * // ... run the code ...
 * console.log(meter.charges);
 */
export class RequestMeter {
  readonly charges: RequestCharge[] = [];
  private readonly tables = new Map<string, Promise<TableDescription>>();
  private paused = false;

  /** @param inspector a DynamoDB client on the same endpoint that is not metered, used to read items before and after writes. */
  constructor(private readonly inspector?: DynamoDBClient) {}

  /** Adds the counting middleware to a client (or a DynamoDBDocumentClient's underlying client). */
  attach(client: MeteredClient, service: string): void {
    const middleware: BuildMiddleware<object, object> = (next, context) => async (args) => {
      if (this.paused) return next(args);
      const operation = String(context.commandName ?? 'Unknown').replace(/Command$/, '');
      const input = (args as { input: Record<string, unknown> }).input;
      if (service === 'DynamoDB') return this.meterDynamo(operation, input, () => next(args));
      const result = await next(args);
      this.record({
        service,
        operation,
        calls: 1,
        billedRequests: billedRequestsOf(service, operation, input, (result as { output: unknown }).output),
        writeUnits: 0,
        indexWriteUnits: 0,
        readUnits: 0,
        modelled: false,
      });
      return result;
    };
    client.middlewareStack.add(middleware, { step: 'build', name: 'jobstackBenchRequestMeter', priority: 'high' });
  }

  /**
   * Records requests made on the system's behalf that no client of ours sends
   * (the SQS poller's ReceiveMessage, Lambda invocations). `calls` may be
   * fractional: one batch request shared by ten jobs is 0.1 a job.
   */
  model(service: string, operation: string, calls: number, billedRequests = calls): void {
    if (this.paused) return;
    this.record({ service, operation, calls, billedRequests, writeUnits: 0, indexWriteUnits: 0, readUnits: 0, modelled: true });
  }

  /** Runs `work` without metering (setup, checks, polling done by the benchmark itself). */
  async unmetered<T>(work: () => Promise<T>): Promise<T> {
    const was = this.paused;
    this.paused = true;
    try {
      return await work();
    } finally {
      this.paused = was;
    }
  }

  reset(): void {
    this.charges.length = 0;
  }

  private record(charge: RequestCharge): void {
    this.charges.push(charge);
  }

  private async meterDynamo(
    operation: string,
    input: Record<string, unknown>,
    send: () => Promise<BuildHandlerOutput<object>>,
  ): Promise<BuildHandlerOutput<object>> {
    const targets = await this.writeTargets(operation, input);
    const before = await Promise.all(targets.map((target) => this.readItem(target)));
    let result: BuildHandlerOutput<object> | undefined;
    let failure: unknown;
    try {
      result = await send();
    } catch (error) {
      // A failed conditional write is still billed; anything else we record and rethrow as well.
      failure = error;
    }
    const after = await Promise.all(targets.map((target) => this.readItem(target)));
    let writeUnits = 0;
    let indexWriteUnits = 0;
    for (const [i, target] of targets.entries()) {
      writeUnits += tableWriteUnits(before[i], after[i]) * target.factor;
      for (const index of await this.indexes(target.table)) {
        for (const write of indexWrites(index, before[i], after[i])) indexWriteUnits += write.units * target.factor;
      }
    }
    const output = (result as { output?: Record<string, unknown> } | undefined)?.output;
    this.record({
      service: 'DynamoDB',
      operation,
      calls: 1,
      billedRequests: 1,
      writeUnits,
      indexWriteUnits,
      readUnits: failure === undefined ? readUnitsOf(operation, input, output) : 0,
      modelled: false,
    });
    if (failure !== undefined || result === undefined) throw failure;
    return result;
  }

  private async writeTargets(operation: string, input: Record<string, unknown>): Promise<WriteTarget[]> {
    const one = async (table: string, item: Item | undefined, key: Item | undefined, factor = 1): Promise<WriteTarget> => ({
      table,
      key: key ?? (await this.keyOf(table, item ?? {})),
      factor,
    });
    switch (operation) {
      case 'PutItem':
        return [await one(input.TableName as string, input.Item as Item, undefined)];
      case 'UpdateItem':
      case 'DeleteItem':
        return [await one(input.TableName as string, undefined, input.Key as Item)];
      case 'BatchWriteItem': {
        const targets: WriteTarget[] = [];
        for (const [table, requests] of Object.entries(
          input.RequestItems as Record<string, Record<string, { Item?: Item; Key?: Item }>[]>,
        )) {
          for (const request of requests) {
            targets.push(await one(table, request.PutRequest?.Item, request.DeleteRequest?.Key));
          }
        }
        return targets;
      }
      case 'TransactWriteItems': {
        const targets: WriteTarget[] = [];
        for (const entry of input.TransactItems as Record<string, { TableName: string; Item?: Item; Key?: Item }>[]) {
          for (const action of Object.values(entry)) targets.push(await one(action.TableName, action.Item, action.Key, 2));
        }
        return targets;
      }
      default:
        return [];
    }
  }

  private async readItem(target: WriteTarget): Promise<Item | undefined> {
    if (!this.inspector) throw new Error('RequestMeter needs an inspector DynamoDB client to size writes');
    const output = await this.inspector.send(
      new GetItemCommand({ TableName: target.table, Key: target.key, ConsistentRead: true }),
    );
    return output.Item;
  }

  private describe(table: string): Promise<TableDescription> {
    let description = this.tables.get(table);
    if (!description) {
      if (!this.inspector) throw new Error('RequestMeter needs an inspector DynamoDB client to read table shapes');
      description = this.inspector.send(new DescribeTableCommand({ TableName: table })).then((output) => {
        if (!output.Table) throw new Error(`DescribeTable ${table} returned no table`);
        return output.Table;
      });
      this.tables.set(table, description);
    }
    return description;
  }

  private async keyOf(table: string, item: Item): Promise<Item> {
    const description = await this.describe(table);
    const key: Item = {};
    for (const element of description.KeySchema ?? []) {
      const name = element.AttributeName as string;
      const value = item[name];
      if (value === undefined) throw new Error(`item written to ${table} has no key attribute ${name}`);
      key[name] = value;
    }
    return key;
  }

  private async indexes(table: string): Promise<IndexShape[]> {
    const description = await this.describe(table);
    const tableKeyAttributes = (description.KeySchema ?? []).map((k) => k.AttributeName as string);
    return (description.GlobalSecondaryIndexes ?? []).map((gsi) => {
      const type = gsi.Projection?.ProjectionType ?? 'ALL';
      return {
        name: gsi.IndexName as string,
        keyAttributes: (gsi.KeySchema ?? []).map((k) => k.AttributeName as string),
        tableKeyAttributes,
        projection:
          type === 'INCLUDE'
            ? { type, attributes: gsi.Projection?.NonKeyAttributes ?? [] }
            : type === 'KEYS_ONLY'
              ? { type }
              : { type: 'ALL' as const },
      };
    });
  }
}

/** Read units of a read request, from what it returned. */
function readUnitsOf(operation: string, input: Record<string, unknown>, output: Record<string, unknown> | undefined): number {
  const consistent = input.ConsistentRead === true;
  switch (operation) {
    case 'GetItem':
      return readUnits(itemSize(asItem(output?.Item)), consistent);
    case 'BatchGetItem': {
      let units = 0;
      for (const [table, request] of Object.entries((input.RequestItems ?? {}) as Record<string, { ConsistentRead?: boolean }>)) {
        const items = ((output?.Responses as Record<string, unknown[]> | undefined)?.[table] ?? []) as unknown[];
        for (const item of items) units += readUnits(itemSize(asItem(item)), request.ConsistentRead === true);
      }
      return units;
    }
    case 'Query':
    case 'Scan': {
      // Billed on the items read before any filter; the returned items are a lower bound.
      const items = (output?.Items ?? []) as unknown[];
      return readUnits(
        items.reduce<number>((sum, item) => sum + itemSize(asItem(item)), 0),
        consistent,
      );
    }
    case 'TransactGetItems':
      return ((output?.Responses ?? []) as { Item?: unknown }[]).reduce(
        (sum, response) => sum + 2 * readUnits(itemSize(asItem(response.Item)), true),
        0,
      );
    default:
      return 0;
  }
}

const ATTRIBUTE_TYPES = new Set(['S', 'N', 'B', 'BOOL', 'NULL', 'M', 'L', 'SS', 'NS', 'BS']);

/**
 * The metering middleware runs after lib-dynamodb has unmarshalled a document
 * client's output, so an item may come back as plain JSON: marshal it again.
 */
function asItem(value: unknown): Item | undefined {
  if (value === undefined || value === null) return undefined;
  const entries = Object.values(value as Record<string, unknown>);
  const marshalled = entries.every((v) => {
    if (v === null || typeof v !== 'object' || Array.isArray(v)) return false;
    const keys = Object.keys(v);
    return keys.length === 1 && ATTRIBUTE_TYPES.has(keys[0] as string);
  });
  if (marshalled) return value as Item;
  return marshall(value as Record<string, unknown>, { removeUndefinedValues: true, convertClassInstanceToMap: true }) as Record<
    string,
    AttributeValue
  >;
}

/**
 * What a call bills as a request: SQS per 64 KB chunk, Lambda per invocation.
 * EventBridge Scheduler and Step Functions do not bill API calls (they bill
 * schedule invocations and state transitions, which are modelled).
 */
function billedRequestsOf(service: string, operation: string, input: Record<string, unknown>, output: unknown): number {
  if (service === 'SQS') return sqsChunks(operation, input, output);
  if (service === 'Lambda') return operation === 'Invoke' ? 1 : 0;
  // S3 bills every request, whatever its size; the PUT or GET rate is chosen by operation (bench/lib/prices.ts).
  if (service === 'S3') return 1;
  return 0;
}

/** Billed SQS requests: every started 64 KB of payload sent or received counts as one request. */
function sqsChunks(operation: string, input: Record<string, unknown>, output: unknown): number {
  const chunks = (bytes: number) => Math.max(1, Math.ceil(bytes / SQS_CHUNK_BYTES));
  switch (operation) {
    case 'SendMessage':
      return chunks(messageBytes(input as { MessageBody?: string; MessageAttributes?: Record<string, unknown> }));
    case 'SendMessageBatch':
      return chunks(
        ((input.Entries ?? []) as { MessageBody?: string; MessageAttributes?: Record<string, unknown> }[]).reduce(
          (sum, entry) => sum + messageBytes(entry),
          0,
        ),
      );
    case 'ReceiveMessage':
      return chunks(
        (((output as { Messages?: { Body?: string }[] } | undefined)?.Messages ?? []) as { Body?: string }[]).reduce(
          (sum, message) => sum + Buffer.byteLength(message.Body ?? ''),
          0,
        ),
      );
    default:
      return 1;
  }
}

function messageBytes(message: { MessageBody?: string; MessageAttributes?: Record<string, unknown> }): number {
  let bytes = Buffer.byteLength(message.MessageBody ?? '');
  for (const [name, value] of Object.entries(message.MessageAttributes ?? {})) {
    const attribute = value as { DataType?: string; StringValue?: string; BinaryValue?: Uint8Array };
    bytes += Buffer.byteLength(name) + Buffer.byteLength(attribute.DataType ?? '');
    bytes +=
      attribute.StringValue !== undefined ? Buffer.byteLength(attribute.StringValue) : (attribute.BinaryValue?.byteLength ?? 0);
  }
  return bytes;
}
