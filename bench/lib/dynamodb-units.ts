import type { AttributeValue } from '@aws-sdk/client-dynamodb';

/**
 * DynamoDB capacity-unit arithmetic, from the documented rules
 * (https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/CapacityUnitCalculations.html):
 *
 * - item size = Σ (UTF-8 length of the attribute name + size of its value);
 *   strings and binaries count their bytes, numbers ⌈significant digits / 2⌉ + 1
 *   bytes, booleans and nulls 1 byte, lists and maps 3 bytes plus 1 byte per
 *   element plus their elements (a map element also counts its name), sets their
 *   elements;
 * - a write costs 1 write unit per started KB of the item, at least 1; PutItem,
 *   UpdateItem and DeleteItem are charged on the larger of the item before and after;
 * - a strongly consistent read costs 1 read unit per started 4 KB (eventually
 *   consistent half of it), at least one unit per item;
 * - a global secondary index is written only when the write touches it: an item
 *   entering or leaving a sparse index costs one index write, a change of the
 *   index key costs a delete and a put, a change of a projected attribute one
 *   write; otherwise nothing.
 */

export type Item = Record<string, AttributeValue>;

const KB = 1_024;
const READ_BLOCK = 4 * KB;

/** Size in bytes of one attribute value, by DynamoDB's sizing rules. */
export function attributeValueSize(value: AttributeValue): number {
  if (value.S !== undefined) return Buffer.byteLength(value.S, 'utf8');
  if (value.N !== undefined) return numberSize(value.N);
  if (value.B !== undefined) return value.B.byteLength;
  if (value.BOOL !== undefined || value.NULL !== undefined) return 1;
  if (value.SS !== undefined) return value.SS.reduce((sum, s) => sum + Buffer.byteLength(s, 'utf8'), 0);
  if (value.NS !== undefined) return value.NS.reduce((sum, n) => sum + numberSize(n), 0);
  if (value.BS !== undefined) return value.BS.reduce((sum, b) => sum + b.byteLength, 0);
  if (value.L !== undefined) return 3 + value.L.reduce((sum, element) => sum + 1 + attributeValueSize(element), 0);
  if (value.M !== undefined) {
    return (
      3 +
      Object.entries(value.M).reduce(
        (sum, [name, element]) => sum + 1 + Buffer.byteLength(name, 'utf8') + attributeValueSize(element),
        0,
      )
    );
  }
  throw new TypeError(`not a DynamoDB attribute value: ${JSON.stringify(value)}`);
}

/** Numbers are stored in a variable-length form: about one byte per two significant digits, plus one. */
function numberSize(n: string): number {
  const digits = n
    .replace(/^[-+]/, '')
    .replace(/[eE][-+]?\d+$/, '')
    .replace('.', '')
    .replace(/^0+/, '')
    .replace(/0+$/, '');
  return Math.ceil(Math.max(1, digits.length) / 2) + 1;
}

/** Size in bytes of an item (a map of attribute names to values). An absent item is 0. */
export function itemSize(item: Item | undefined): number {
  if (item === undefined) return 0;
  return Object.entries(item).reduce(
    (sum, [name, value]) => sum + Buffer.byteLength(name, 'utf8') + attributeValueSize(value),
    0,
  );
}

/** Write units of one table write: the larger of the item before and after, per started KB, at least 1. */
export function tableWriteUnits(before: Item | undefined, after: Item | undefined): number {
  return Math.max(1, Math.ceil(Math.max(itemSize(before), itemSize(after)) / KB));
}

/** Read units of reading `sizeBytes` (one item, or the sum of a query page). */
export function readUnits(sizeBytes: number, consistent: boolean): number {
  const units = Math.max(1, Math.ceil(sizeBytes / READ_BLOCK));
  return consistent ? units : units / 2;
}

/** A global secondary index as DescribeTable describes it. */
export interface IndexShape {
  readonly name: string;
  /** Partition key and, when there is one, sort key. */
  readonly keyAttributes: readonly string[];
  /** Base-table key attributes (always projected). */
  readonly tableKeyAttributes: readonly string[];
  readonly projection:
    | { readonly type: 'ALL' }
    | { readonly type: 'KEYS_ONLY' }
    | { readonly type: 'INCLUDE'; readonly attributes: readonly string[] };
}

export interface IndexWrite {
  readonly index: string;
  readonly kind: 'put' | 'delete' | 'update';
  readonly units: number;
}

/**
 * Index writes caused by one table write that turned `before` into `after`
 * (either may be absent). An item is in the index only when it has every index
 * key attribute (that is what makes an index sparse).
 */
export function indexWrites(index: IndexShape, before: Item | undefined, after: Item | undefined): IndexWrite[] {
  const beforeEntry = projectedEntry(index, before);
  const afterEntry = projectedEntry(index, after);
  const units = (entry: Item | undefined) => Math.max(1, Math.ceil(itemSize(entry) / KB));
  if (beforeEntry === undefined && afterEntry === undefined) return [];
  if (beforeEntry === undefined && afterEntry !== undefined)
    return [{ index: index.name, kind: 'put', units: units(afterEntry) }];
  if (beforeEntry !== undefined && afterEntry === undefined)
    return [{ index: index.name, kind: 'delete', units: units(beforeEntry) }];
  const b = beforeEntry as Item;
  const a = afterEntry as Item;
  const keyChanged = index.keyAttributes.some((name) => !sameValue(b[name], a[name]));
  if (keyChanged) {
    return [
      { index: index.name, kind: 'delete', units: units(b) },
      { index: index.name, kind: 'put', units: units(a) },
    ];
  }
  if (sameItem(b, a)) return [];
  return [{ index: index.name, kind: 'update', units: Math.max(units(b), units(a)) }];
}

/** The entry `item` has in `index`, or undefined when it lacks an index key attribute. */
function projectedEntry(index: IndexShape, item: Item | undefined): Item | undefined {
  if (item === undefined) return undefined;
  if (index.keyAttributes.some((name) => item[name] === undefined)) return undefined;
  if (index.projection.type === 'ALL') return item;
  const keep = new Set([...index.keyAttributes, ...index.tableKeyAttributes]);
  if (index.projection.type === 'INCLUDE') for (const name of index.projection.attributes) keep.add(name);
  return Object.fromEntries(Object.entries(item).filter(([name]) => keep.has(name)));
}

function sameItem(a: Item, b: Item): boolean {
  const names = new Set([...Object.keys(a), ...Object.keys(b)]);
  for (const name of names) if (!sameValue(a[name], b[name])) return false;
  return true;
}

function sameValue(a: AttributeValue | undefined, b: AttributeValue | undefined): boolean {
  if (a === undefined || b === undefined) return a === b;
  return canonical(a) === canonical(b);
}

function canonical(value: AttributeValue): string {
  return JSON.stringify(value, (_key, v: unknown) => {
    if (v instanceof Uint8Array) return Buffer.from(v).toString('base64');
    if (v && typeof v === 'object' && !Array.isArray(v)) {
      return Object.fromEntries(Object.entries(v as Record<string, unknown>).sort(([x], [y]) => x.localeCompare(y)));
    }
    return v;
  });
}
