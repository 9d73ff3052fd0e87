/**
 * Which JSON values DynamoDB can hold exactly. Payloads, results, checkpoints
 * and `ctx.once` results are stored as DynamoDB maps and numbers, and two rules
 * bite there that JSON does not have:
 *
 * - the document client refuses numbers beyond ±(2^53 − 1) (it cannot tell
 *   whether the digits it would send are the ones the caller meant), and
 *   `Infinity`/`NaN` are not JSON at all;
 * - DynamoDB refuses magnitudes outside 1E-130 .. 9.99…E+125 (a ValidationException).
 *
 * A value that breaks either rule makes the write fail every time it is tried,
 * so it must be caught before the write, never discovered by a retry.
 * https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/HowItWorks.NamingRulesDataTypes.html#HowItWorks.DataTypes.Number
 */

/** Smallest non-zero magnitude DynamoDB stores. */
const MIN_DYNAMODB_MAGNITUDE = 1e-130;

/**
 * Where `value` (as it will be after JSON serialization) holds a number that
 * cannot be stored exactly, as `path: reason` lines; empty when it all can.
 * Walks at most `limit` problems (a huge array of bad numbers is one report).
 */
export function unstorableNumbers(value: unknown, path = '(root)', limit = 5): string[] {
  const problems: string[] = [];
  walk(value, path);
  return problems;

  function walk(node: unknown, at: string): void {
    if (problems.length >= limit) return;
    if (typeof node === 'number') {
      const reason = numberProblem(node);
      if (reason) problems.push(`${at}: ${reason}`);
      return;
    }
    if (typeof node === 'bigint') {
      problems.push(`${at}: a BigInt is not JSON; send it as a string`);
      return;
    }
    if (node === null || typeof node !== 'object') return;
    if (typeof (node as { toJSON?: unknown }).toJSON === 'function') return; // Dates and the like serialize to strings
    if (Array.isArray(node)) {
      node.forEach((item, index) => {
        walk(item, `${at}[${index}]`);
      });
      return;
    }
    for (const [key, child] of Object.entries(node)) walk(child, at === '(root)' ? key : `${at}.${key}`);
  }
}

function numberProblem(value: number): string | undefined {
  if (!Number.isFinite(value)) return `${value} is not a JSON number`;
  if (Math.abs(value) > Number.MAX_SAFE_INTEGER)
    return `${value} is beyond ±(2^53 − 1) and cannot be stored exactly; send it as a string`;
  if (value !== 0 && Math.abs(value) < MIN_DYNAMODB_MAGNITUDE)
    return `${value} is smaller in magnitude than DynamoDB's 1E-130; round it or send it as a string`;
  return undefined;
}
