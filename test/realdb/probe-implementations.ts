/**
 * Measures how closely a DynamoDB implementation follows AWS on the semantics
 * jobstack's stores depend on: condition expressions, the item returned on a
 * failed condition, transactions, the sparse GSI, number limits and Scan
 * paging. It chose the implementation behind the `realdb` test project; run it
 * again before changing that choice or bumping a pinned version.
 *
 * Start each candidate yourself on its own 127.0.0.1 port (never 4566), then:
 *
 *   npx tsx test/realdb/probe-implementations.ts ministack=http://127.0.0.1:4701 moto=http://127.0.0.1:4702
 *
 * e.g. `.venv/bin/moto_server -H 127.0.0.1 -p 4702`,
 * `BIND_HOST=127.0.0.1 GATEWAY_PORT=4701 .venv/bin/ministack`,
 * `npx dynalite --host 127.0.0.1 --port 4703`.
 * Prints a markdown table (one row per check, one column per implementation);
 * the last table is in docs/real-dynamodb.md.
 */
import {
  ConditionalCheckFailedException,
  CreateTableCommand,
  DeleteItemCommand,
  DeleteTableCommand,
  DescribeTableCommand,
  DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
  QueryCommand,
  ScanCommand,
  TransactionCanceledException,
  TransactWriteItemsCommand,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';

type Check = (db: DynamoDBClient, table: string) => Promise<void>;

class Mismatch extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'Mismatch';
  }
}

function expectEqual(actual: unknown, expected: unknown, what: string): void {
  if (JSON.stringify(actual) !== JSON.stringify(expected))
    throw new Mismatch(`${what}: got ${JSON.stringify(actual)}, AWS gives ${JSON.stringify(expected)}`);
}

/** Runs `write` and returns the error it throws; a write that succeeds is a mismatch. */
async function failure(write: () => Promise<unknown>, what: string): Promise<unknown> {
  try {
    await write();
  } catch (error) {
    return error;
  }
  throw new Mismatch(`${what}: succeeded, AWS rejects it`);
}

async function expectConditionFails(write: () => Promise<unknown>, what: string): Promise<ConditionalCheckFailedException> {
  const error = await failure(write, what);
  if (!(error instanceof ConditionalCheckFailedException))
    throw new Mismatch(`${what}: threw ${(error as Error).name}, AWS throws ConditionalCheckFailedException`);
  return error;
}

async function expectValidationError(write: () => Promise<unknown>, what: string): Promise<void> {
  const error = (await failure(write, what)) as Error;
  if (error.name !== 'ValidationException') throw new Mismatch(`${what}: threw ${error.name}, AWS throws ValidationException`);
}

const put = (db: DynamoDBClient, table: string, item: Record<string, unknown>) =>
  db.send(new PutItemCommand({ TableName: table, Item: item as never }));

/** Sets attribute `n` of item `id` when `condition` holds (with `:v` bound to `value`). */
const conditionalSet = (db: DynamoDBClient, table: string, id: string, condition: string, value: Record<string, unknown>) =>
  db.send(
    new UpdateItemCommand({
      TableName: table,
      Key: { id: { S: id } },
      UpdateExpression: 'SET touched = :t',
      ConditionExpression: condition,
      ExpressionAttributeValues: { ':t': { BOOL: true }, ':v': value as never },
    }),
  );

const checks: Record<string, Check> = {
  'attribute_not_exists on Put': async (db, table) => {
    const write = () =>
      db.send(
        new PutItemCommand({ TableName: table, Item: { id: { S: 'ane' } }, ConditionExpression: 'attribute_not_exists(id)' }),
      );
    await write();
    await expectConditionFails(write, 'second Put');
  },
  'IN (holds / fails)': async (db, table) => {
    await put(db, table, { id: { S: 'in' }, st: { S: 'queued' } });
    const holds = (other: string) =>
      db.send(
        new UpdateItemCommand({
          TableName: table,
          Key: { id: { S: 'in' } },
          UpdateExpression: 'SET touched = :t',
          ConditionExpression: 'st IN (:a, :b)',
          ExpressionAttributeValues: { ':t': { BOOL: true }, ':a': { S: other }, ':b': { S: 'scheduled' } },
        }),
      );
    await holds('queued');
    await expectConditionFails(() => holds('running'), 'IN without a match');
  },
  '< on numbers (9 < 10 numerically)': async (db, table) => {
    await put(db, table, { id: { S: 'lt' }, lease: { N: '9' } });
    await conditionalSet(db, table, 'lt', 'lease < :v', { N: '10' });
    await expectConditionFails(() => conditionalSet(db, table, 'lt', 'lease < :v', { N: '9' }), '9 < 9');
  },
  '< and <= on ISO-8601 strings': async (db, table) => {
    await put(db, table, { id: { S: 'iso' }, nextAttemptAt: { S: '2026-11-23T12:00:00.000Z' } });
    await conditionalSet(db, table, 'iso', 'nextAttemptAt <= :v', { S: '2026-11-23T12:00:00.000Z' });
    await conditionalSet(db, table, 'iso', 'nextAttemptAt < :v', { S: '2026-11-23T12:00:00.001Z' });
    await expectConditionFails(
      () => conditionalSet(db, table, 'iso', 'nextAttemptAt < :v', { S: '2026-11-23T11:59:59.999Z' }),
      'later < earlier',
    );
  },
  'comparison with a missing attribute is false': async (db, table) => {
    await put(db, table, { id: { S: 'missing' } });
    await expectConditionFails(() => conditionalSet(db, table, 'missing', 'lease < :v', { N: '10' }), 'missing < 10');
  },
  'condition on a missing item (attribute_not_exists OR ...)': async (db, table) => {
    await conditionalSet(db, table, 'fresh', 'attribute_not_exists(id) OR st = :v', { S: 'queued' });
    await expectConditionFails(
      () => conditionalSet(db, table, 'nothing', 'st = :v', { S: 'queued' }),
      'condition on an absent item',
    );
  },
  'if_not_exists keeps the stored value': async (db, table) => {
    await put(db, table, { id: { S: 'ine' }, kind: { S: 'kept' } });
    const output = await db.send(
      new UpdateItemCommand({
        TableName: table,
        Key: { id: { S: 'ine' } },
        UpdateExpression: 'SET kind = if_not_exists(kind, :k), fresh = if_not_exists(fresh, :k)',
        ExpressionAttributeValues: { ':k': { S: 'new' } },
        ReturnValues: 'ALL_NEW',
      }),
    );
    expectEqual([output.Attributes?.kind?.S, output.Attributes?.fresh?.S], ['kept', 'new'], 'kind, fresh');
  },
  'ADD on a number (and on a missing one)': async (db, table) => {
    await put(db, table, { id: { S: 'add' }, attempts: { N: '2' } });
    const add = (id: string) =>
      db.send(
        new UpdateItemCommand({
          TableName: table,
          Key: { id: { S: id } },
          UpdateExpression: 'ADD attempts :one',
          ExpressionAttributeValues: { ':one': { N: '1' } },
          ReturnValues: 'ALL_NEW',
        }),
      );
    expectEqual((await add('add')).Attributes?.attempts?.N, '3', 'attempts after ADD');
    expectEqual((await add('add-new')).Attributes?.attempts?.N, '1', 'ADD to an absent item');
  },
  'ReturnValues ALL_NEW': async (db, table) => {
    await put(db, table, { id: { S: 'new' }, a: { S: 'x' } });
    const output = await conditionalSet(db, table, 'new', 'a = :v', { S: 'x' }).then(() =>
      db.send(
        new UpdateItemCommand({
          TableName: table,
          Key: { id: { S: 'new' } },
          UpdateExpression: 'SET b = :b REMOVE touched',
          ExpressionAttributeValues: { ':b': { S: 'y' } },
          ReturnValues: 'ALL_NEW',
        }),
      ),
    );
    expectEqual(output.Attributes, { id: { S: 'new' }, a: { S: 'x' }, b: { S: 'y' } }, 'Attributes');
  },
  'ReturnValuesOnConditionCheckFailure ALL_OLD on Update': async (db, table) => {
    await put(db, table, { id: { S: 'old' }, st: { S: 'running' }, lease: { N: '5' } });
    const error = await expectConditionFails(
      () =>
        db.send(
          new UpdateItemCommand({
            TableName: table,
            Key: { id: { S: 'old' } },
            UpdateExpression: 'SET st = :s',
            ConditionExpression: 'st = :s',
            ExpressionAttributeValues: { ':s': { S: 'queued' } },
            ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
          }),
        ),
      'Update',
    );
    expectEqual(error.Item, { id: { S: 'old' }, st: { S: 'running' }, lease: { N: '5' } }, 'Item on the exception');
  },
  'ReturnValuesOnConditionCheckFailure ALL_OLD on Put': async (db, table) => {
    await put(db, table, { id: { S: 'oldput' }, jobId: { S: 'first' } });
    const error = await expectConditionFails(
      () =>
        db.send(
          new PutItemCommand({
            TableName: table,
            Item: { id: { S: 'oldput' }, jobId: { S: 'second' } },
            ConditionExpression: 'attribute_not_exists(id)',
            ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
          }),
        ),
      'Put',
    );
    expectEqual(error.Item?.jobId, { S: 'first' }, 'Item.jobId on the exception');
  },
  'TransactWriteItems: a failed condition cancels all, with reasons': async (db, table) => {
    await put(db, table, { id: { S: 'tx-b' }, st: { S: 'dead' } });
    const error = await failure(
      () =>
        db.send(
          new TransactWriteItemsCommand({
            TransactItems: [
              { Put: { TableName: table, Item: { id: { S: 'tx-a' } } } },
              {
                Update: {
                  TableName: table,
                  Key: { id: { S: 'tx-b' } },
                  UpdateExpression: 'SET st = :q',
                  ConditionExpression: 'st = :q',
                  ExpressionAttributeValues: { ':q': { S: 'queued' } },
                  ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
                },
              },
            ],
          }),
        ),
      'transaction',
    );
    if (!(error instanceof TransactionCanceledException))
      throw new Mismatch(`threw ${(error as Error).name}, AWS throws TransactionCanceledException`);
    expectEqual(
      error.CancellationReasons?.map((reason) => reason.Code),
      ['None', 'ConditionalCheckFailed'],
      'CancellationReasons codes',
    );
    expectEqual(error.CancellationReasons?.[1]?.Item?.st, { S: 'dead' }, 'CancellationReasons[1].Item');
    const first = await db.send(new GetItemCommand({ TableName: table, Key: { id: { S: 'tx-a' } }, ConsistentRead: true }));
    expectEqual(first.Item, undefined, 'the first write of the cancelled transaction');
  },
  'GSI: sparse, ScanIndexForward false, Limit + LastEvaluatedKey': async (db, table) => {
    for (const [id, at] of [
      ['g1', '2026-01-01T00:00:01.000Z'],
      ['g2', '2026-01-01T00:00:03.000Z'],
      ['g3', '2026-01-01T00:00:02.000Z'],
    ] as const)
      await put(db, table, { id: { S: id }, attentionState: { S: 'dead#0' }, updatedAt: { S: at } });
    await put(db, table, { id: { S: 'g4' }, updatedAt: { S: '2026-01-01T00:00:09.000Z' } });
    const page = (startKey?: Record<string, never>) =>
      db.send(
        new QueryCommand({
          TableName: table,
          IndexName: 'byAttentionState',
          KeyConditionExpression: 'attentionState = :a',
          ExpressionAttributeValues: { ':a': { S: 'dead#0' } },
          ScanIndexForward: false,
          Limit: 2,
          ExclusiveStartKey: startKey,
        }),
      );
    const first = await page();
    expectEqual(
      first.Items?.map((item) => item.id?.S),
      ['g2', 'g3'],
      'first page',
    );
    if (!first.LastEvaluatedKey) throw new Mismatch('no LastEvaluatedKey after a full page');
    const second = await page(first.LastEvaluatedKey as Record<string, never>);
    expectEqual(
      second.Items?.map((item) => item.id?.S),
      ['g1'],
      'second page',
    );
  },
  'numbers: 38 significant digits round-trip exactly': async (db, table) => {
    const digits = '12345678901234567890123456789012345678';
    await put(db, table, { id: { S: 'n38' }, n: { N: digits }, small: { N: '1.2345678901234567890123456789012345678E-100' } });
    const output = await db.send(new GetItemCommand({ TableName: table, Key: { id: { S: 'n38' } }, ConsistentRead: true }));
    expectEqual(output.Item?.n?.N, digits, 'n');
    const small = output.Item?.small?.N ?? '';
    if (!/^(0\.0{99}12345678901234567890123456789012345678|1\.2345678901234567890123456789012345678[eE]-100)$/.test(small))
      throw new Mismatch(`small: got ${small}, expected 38 digits at 1e-100`);
  },
  'numbers: 1e-200, 1e126 and 39 digits are ValidationException': async (db, table) => {
    for (const n of ['1e-200', '1e126', '123456789012345678901234567890123456789'])
      await expectValidationError(() => put(db, table, { id: { S: `bad-${n}` }, n: { N: n } }), `N ${n}`);
  },
  '< on 38-digit numbers compares exactly': async (db, table) => {
    await put(db, table, { id: { S: 'big' }, n: { N: '12345678901234567890123456789012345678' } });
    await conditionalSet(db, table, 'big', 'n < :v', { N: '12345678901234567890123456789012345679' });
    await expectConditionFails(
      () => conditionalSet(db, table, 'big', 'n < :v', { N: '12345678901234567890123456789012345677' }),
      'n < n - 1',
    );
  },
  'a number never equals a string': async (db, table) => {
    await put(db, table, { id: { S: 'types' }, attempts: { N: '1' } });
    await expectConditionFails(() => conditionalSet(db, table, 'types', 'attempts = :v', { S: '1' }), 'N 1 = S "1"');
  },
  'ALL_OLD on a failed condition of an absent item: no Item': async (db, table) => {
    const error = await expectConditionFails(
      () =>
        db.send(
          new UpdateItemCommand({
            TableName: table,
            Key: { id: { S: 'absent' } },
            UpdateExpression: 'SET st = :s',
            ConditionExpression: 'st = :s',
            ExpressionAttributeValues: { ':s': { S: 'queued' } },
            ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
          }),
        ),
      'Update of an absent item',
    );
    expectEqual(error.Item, undefined, 'Item');
  },
  'ALL_OLD on a failed Delete condition': async (db, table) => {
    await put(db, table, { id: { S: 'del' }, st: { S: 'running' } });
    const error = await expectConditionFails(
      () =>
        db.send(
          new DeleteItemCommand({
            TableName: table,
            Key: { id: { S: 'del' } },
            ConditionExpression: 'st = :s',
            ExpressionAttributeValues: { ':s': { S: 'queued' } },
            ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
          }),
        ),
      'Delete',
    );
    expectEqual(error.Item?.st, { S: 'running' }, 'Item.st');
  },
  'unused ExpressionAttributeValues is a ValidationException': async (db, table) => {
    await put(db, table, { id: { S: 'unused' } });
    await expectValidationError(
      () =>
        db.send(
          new UpdateItemCommand({
            TableName: table,
            Key: { id: { S: 'unused' } },
            UpdateExpression: 'SET a = :a',
            ExpressionAttributeValues: { ':a': { S: 'x' }, ':b': { S: 'y' } },
          }),
        ),
      'an unused :b',
    );
  },
  'unescaped reserved word is a ValidationException': async (db, table) => {
    await expectValidationError(
      () =>
        db.send(
          new UpdateItemCommand({
            TableName: table,
            Key: { id: { S: 'reserved' } },
            UpdateExpression: 'SET state = :s',
            ExpressionAttributeValues: { ':s': { S: 'x' } },
          }),
        ),
      'SET state',
    );
  },
  'item over 400 KB is a ValidationException': async (db, table) => {
    await expectValidationError(
      () => put(db, table, { id: { S: 'huge' }, blob: { S: 'x'.repeat(410 * 1024) } }),
      'a 410 KB item',
    );
  },
  'ConsistentRead on a GSI is a ValidationException': async (db, table) => {
    await expectValidationError(
      () =>
        db.send(
          new QueryCommand({
            TableName: table,
            IndexName: 'byAttentionState',
            KeyConditionExpression: 'attentionState = :a',
            ExpressionAttributeValues: { ':a': { S: 'dead#0' } },
            ConsistentRead: true,
          }),
        ),
      'a consistent GSI query',
    );
  },
  '20 concurrent conditional Puts: exactly one wins (x5)': async (db, table) => {
    for (let round = 0; round < 5; round++) {
      const outcomes = await Promise.allSettled(
        Array.from({ length: 20 }, (_, i) =>
          db.send(
            new PutItemCommand({
              TableName: table,
              Item: { id: { S: `race-${round}` }, winner: { N: String(i) } },
              ConditionExpression: 'attribute_not_exists(id)',
            }),
          ),
        ),
      );
      expectEqual(outcomes.filter((outcome) => outcome.status === 'fulfilled').length, 1, `winners in round ${round}`);
    }
  },
  '20 concurrent conditional Updates (attempts = :seen, ADD): one wins': async (db, table) => {
    await put(db, table, { id: { S: 'claim' }, attempts: { N: '0' } });
    const outcomes = await Promise.allSettled(
      Array.from({ length: 20 }, () =>
        db.send(
          new UpdateItemCommand({
            TableName: table,
            Key: { id: { S: 'claim' } },
            UpdateExpression: 'ADD attempts :one',
            ConditionExpression: 'attempts = :zero',
            ExpressionAttributeValues: { ':one': { N: '1' }, ':zero': { N: '0' } },
          }),
        ),
      ),
    );
    expectEqual(outcomes.filter((outcome) => outcome.status === 'fulfilled').length, 1, 'winners');
  },
  'Scan: Limit counts items read before the filter': async (db, table) => {
    for (let i = 0; i < 10; i++) await put(db, table, { id: { S: `s${i}` }, kind: { S: i === 9 ? 'wanted' : 'other' } });
    let startKey: Record<string, never> | undefined;
    let pages = 0;
    const found: string[] = [];
    do {
      const output = await db.send(
        new ScanCommand({
          TableName: table,
          Limit: 3,
          FilterExpression: 'kind = :k',
          ExpressionAttributeValues: { ':k': { S: 'wanted' } },
          ExclusiveStartKey: startKey,
        }),
      );
      if ((output.ScannedCount ?? 0) > 3) throw new Mismatch(`ScannedCount ${output.ScannedCount} with Limit 3`);
      found.push(...(output.Items ?? []).map((item) => item.id?.S ?? ''));
      startKey = output.LastEvaluatedKey as Record<string, never> | undefined;
      pages++;
    } while (startKey && pages < 20);
    expectEqual(found, ['s9'], 'items found over all pages');
    if (pages < 4) throw new Mismatch(`${pages} pages for 10 items at Limit 3; AWS needs at least 4`);
  },
};

async function probe(name: string, endpoint: string): Promise<Record<string, string>> {
  const db = new DynamoDBClient({
    endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'probe', secretAccessKey: 'probe' },
    maxAttempts: 1,
  });
  const results: Record<string, string> = {};
  for (const [check, run] of Object.entries(checks)) {
    const table = `probe-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`;
    try {
      await db.send(
        new CreateTableCommand({
          TableName: table,
          BillingMode: 'PAY_PER_REQUEST',
          AttributeDefinitions: [
            { AttributeName: 'id', AttributeType: 'S' },
            { AttributeName: 'attentionState', AttributeType: 'S' },
            { AttributeName: 'updatedAt', AttributeType: 'S' },
          ],
          KeySchema: [{ AttributeName: 'id', KeyType: 'HASH' }],
          GlobalSecondaryIndexes: [
            {
              IndexName: 'byAttentionState',
              KeySchema: [
                { AttributeName: 'attentionState', KeyType: 'HASH' },
                { AttributeName: 'updatedAt', KeyType: 'RANGE' },
              ],
              Projection: { ProjectionType: 'ALL' },
            },
          ],
        }),
      );
      // Some implementations create tables asynchronously, as AWS does.
      for (let i = 0; i < 100; i++) {
        const { Table } = await db.send(new DescribeTableCommand({ TableName: table }));
        if (Table?.TableStatus === 'ACTIVE') break;
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      await run(db, table);
      results[check] = 'yes';
    } catch (error) {
      const reason = error instanceof Mismatch ? error.message : `${(error as Error).name}: ${(error as Error).message}`;
      results[check] = `**no** (${reason.replaceAll('|', '\\|').slice(0, 160)})`;
    } finally {
      await db.send(new DeleteTableCommand({ TableName: table })).catch(() => {});
    }
  }
  console.error(`${name}: ${Object.values(results).filter((r) => r === 'yes').length}/${Object.keys(checks).length} as AWS`);
  return results;
}

async function main(): Promise<void> {
  const targets = process.argv.slice(2).map((arg) => {
    const [name, endpoint] = arg.split('=');
    if (!name || !endpoint) throw new Error(`expected name=http://127.0.0.1:port, got ${arg}`);
    return { name, endpoint };
  });
  if (targets.length === 0) throw new Error('usage: probe-implementations.ts name=http://127.0.0.1:port ...');
  const columns: Record<string, string>[] = [];
  for (const target of targets) columns.push(await probe(target.name, target.endpoint));
  console.log(`| check | ${targets.map((target) => target.name).join(' | ')} |`);
  console.log(`|---|${targets.map(() => '---').join('|')}|`);
  for (const check of Object.keys(checks)) console.log(`| ${check} | ${columns.map((column) => column[check]).join(' | ')} |`);
}

await main();
