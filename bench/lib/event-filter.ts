/**
 * Lambda event filtering (EventBridge pattern syntax) for the operators the lifecycle-event filters use:
 * lists of exact values and `anything-but`. A field a pattern names must exist in the record
 * (https://docs.aws.amazon.com/lambda/latest/dg/invocation-eventfiltering.html). Used by the cost bench to
 * count the stream records that invoke the publisher, and by a unit test that the filters pass exactly the
 * records the publisher turns into events.
 */
export function matchesPattern(record: unknown, pattern: Record<string, unknown>): boolean {
  if (typeof record !== 'object' || record === null) return false;
  for (const [key, rule] of Object.entries(pattern)) {
    const value = (record as Record<string, unknown>)[key];
    if (Array.isArray(rule)) {
      if (value === undefined || typeof value === 'object') return false;
      if (!rule.some((matcher) => matchesValue(value, matcher))) return false;
    } else if (typeof rule === 'object' && rule !== null) {
      if (!matchesPattern(value, rule as Record<string, unknown>)) return false;
    } else {
      throw new TypeError(`pattern leaf ${key} must be a list (given ${JSON.stringify(rule)})`);
    }
  }
  return true;
}

function matchesValue(value: unknown, matcher: unknown): boolean {
  if (typeof matcher === 'object' && matcher !== null) {
    const banned = (matcher as { 'anything-but'?: unknown })['anything-but'];
    if (banned === undefined) throw new TypeError(`unsupported matcher ${JSON.stringify(matcher)}`);
    return !(Array.isArray(banned) ? banned : [banned]).includes(value);
  }
  return value === matcher;
}

/** Whether a stream record passes any of the event source's filters (`{ pattern: string }`, as CDK builds them). */
export function passesFilters(record: unknown, filters: readonly Record<string, unknown>[]): boolean {
  return filters.some((filter) => matchesPattern(record, JSON.parse(filter.pattern as string) as Record<string, unknown>));
}
