import type { JobRecord } from '../record.js';
import { assertTransition, type JobState, sourcesOf } from '../states.js';

/**
 * A DynamoDB condition expression with the names and values it uses. Pure
 * data, so each store write's condition can be built and checked on its own
 * (and evaluated by a real DynamoDB implementation in the realdb tests).
 *
 * Expression names and values follow one rule so that conditions combine
 * without clashes: a state is always `:<state>` with the value `'<state>'`, and
 * `#state` is always the `state` attribute. Combining two conditions that bind
 * one expression name or value to different things is a programming error and
 * throws.
 */
export interface Condition {
  readonly expression: string;
  readonly names: Readonly<Record<string, string>>;
  readonly values: Readonly<Record<string, unknown>>;
  /** How the expression is joined at its top level, so combinations add parentheses only where needed. */
  readonly joint: 'term' | 'and' | 'or';
}

/** A single comparison or function call. */
export function term(expression: string, names: Record<string, string> = {}, values: Record<string, unknown> = {}): Condition {
  return { expression, names, values, joint: 'term' };
}

/** The record does not exist yet. */
export const recordAbsent: Condition = term('attribute_not_exists(id)');

/** `#state IN (...)` (or `#state = :x` for one state). */
export function stateIn(states: readonly JobState[]): Condition {
  if (states.length === 0) throw new Error('stateIn needs at least one state');
  const values = Object.fromEntries(states.map((state) => [`:${state}`, state]));
  const expression =
    states.length === 1 ? `#state = :${states[0]}` : `#state IN (${states.map((state) => `:${state}`).join(', ')})`;
  return term(expression, { '#state': 'state' }, values);
}

/**
 * "The job may move to `target` from where it is now", from the state table in
 * shared/states.ts. `except` leaves out sources that need a condition of their
 * own (a takeover of `running` needs an expired lease), which the caller adds
 * with {@link transitionFrom}.
 */
export function fromSourcesOf(target: JobState, options: { except?: readonly JobState[] } = {}): Condition {
  const except = new Set(options.except ?? []);
  return stateIn(sourcesOf(target).filter((state) => !except.has(state)));
}

/**
 * "The job is in `from`", for a write that moves it to `target`. Throws when
 * the state table forbids `from → target`, so a write can only be built for a
 * transition the table allows.
 */
export function transitionFrom(from: JobState, target: JobState): Condition {
  assertTransition(from, target);
  return stateIn([from]);
}

/**
 * "Attempt `attempt` still owns the running job": the fencing token of every
 * write a run makes. With `target`, also checks that the table allows
 * `running → target`.
 */
export function ownedByAttempt(attempt: number, target?: JobState): Condition {
  const running = target === undefined ? stateIn(['running']) : transitionFrom('running', target);
  return allOf(running, term('attempts = :attempt', {}, { ':attempt': attempt }));
}

/**
 * "The record is still the version `seen`": same state, same last change, same
 * attempt and the same sweeper count. A maintenance write (the sweeper, the
 * undeliverable consumer) acts on what it read, and this makes sure nothing
 * moved the job in between — a claim, a progress report, another sweep.
 */
export function unchangedSince(seen: JobRecord): Condition {
  return allOf(
    stateIn([seen.state]),
    term('updatedAt = :seenUpdatedAt', {}, { ':seenUpdatedAt': seen.updatedAt }),
    term('attempts = :seenAttempts', {}, { ':seenAttempts': seen.attempts }),
    seen.sweeps === undefined
      ? term('attribute_not_exists(sweeps)')
      : term('sweeps = :seenSweeps', {}, { ':seenSweeps': seen.sweeps }),
  );
}

/** All of the conditions. */
export function allOf(...conditions: Condition[]): Condition {
  return join('and', conditions);
}

/** Any of the conditions. */
export function anyOf(...conditions: Condition[]): Condition {
  return join('or', conditions);
}

/** The condition as the fields of an UpdateItem/DeleteItem/PutItem input, merged with the write's own names and values. */
export function withCondition(
  condition: Condition,
  own: { names?: Record<string, string>; values?: Record<string, unknown> } = {},
): {
  ConditionExpression: string;
  ExpressionAttributeNames?: Record<string, string>;
  ExpressionAttributeValues?: Record<string, unknown>;
} {
  const names = merge(own.names ?? {}, condition.names, 'name');
  const values = merge(own.values ?? {}, condition.values, 'value');
  return {
    ConditionExpression: condition.expression,
    ...(Object.keys(names).length > 0 ? { ExpressionAttributeNames: names } : {}),
    ...(Object.keys(values).length > 0 ? { ExpressionAttributeValues: values } : {}),
  };
}

function join(joint: 'and' | 'or', conditions: readonly Condition[]): Condition {
  if (conditions.length === 0) throw new Error(`${joint === 'and' ? 'allOf' : 'anyOf'} needs at least one condition`);
  if (conditions.length === 1) return conditions[0] as Condition;
  let names: Record<string, string> = {};
  let values: Record<string, unknown> = {};
  const parts: string[] = [];
  for (const condition of conditions) {
    names = merge(names, condition.names, 'name');
    values = merge(values, condition.values, 'value');
    // AND binds tighter than OR: only an OR inside an AND, or an AND inside an OR (for the reader), needs parentheses.
    parts.push(condition.joint === 'term' || condition.joint === joint ? condition.expression : `(${condition.expression})`);
  }
  return { expression: parts.join(joint === 'and' ? ' AND ' : ' OR '), names, values, joint };
}

function merge<T>(into: Record<string, T>, from: Readonly<Record<string, T>>, kind: string): Record<string, T> {
  const merged = { ...into };
  for (const [key, value] of Object.entries(from)) {
    if (key in merged && !Object.is(merged[key], value) && JSON.stringify(merged[key]) !== JSON.stringify(value)) {
      throw new Error(`condition ${kind} ${key} is bound to two different values`);
    }
    merged[key] = value;
  }
  return merged;
}
