/**
 * Just enough of Amazon States Language to walk an execution of the long-job
 * state machine in-process and count what Step Functions bills a Standard
 * workflow: one state transition per state entered (an Express one bills its
 * request and duration instead; the caller times the walk). Task states call `invoke` (the benchmark
 * runs the real step code there); Wait states do not wait. Supported: Task,
 * Choice (StringEquals, BooleanEquals, NumericEquals, And, Or, Not), Wait, Pass,
 * Succeed, Fail; Parameters with `.$` paths into the state (`$.x`) or the
 * context object (`$$.Execution.Id`, `.Input`, `.StartTime`); ResultPath `$` (default) or null.
 */

export interface AslDefinition {
  readonly StartAt: string;
  readonly States: Record<string, AslState>;
}

interface AslState {
  readonly Type: string;
  readonly Next?: string;
  readonly End?: boolean;
  readonly Resource?: string;
  readonly Parameters?: Record<string, unknown>;
  readonly ResultPath?: string | null;
  readonly Choices?: readonly AslRule[];
  readonly Default?: string;
}

interface AslRule {
  readonly Variable?: string;
  readonly StringEquals?: string;
  readonly BooleanEquals?: boolean;
  readonly NumericEquals?: number;
  readonly And?: readonly AslRule[];
  readonly Or?: readonly AslRule[];
  readonly Not?: AslRule;
  readonly Next?: string;
}

export interface WalkResult {
  /** States entered: what a Standard workflow bills. */
  readonly transitions: number;
  /** Task states run, by resource. */
  readonly tasks: Record<string, number>;
  /** The state the execution ended in. */
  readonly endState: string;
  readonly endType: 'Succeed' | 'Fail' | 'Task';
  readonly output: unknown;
}

export type TaskInvoker = (resource: string, payload: unknown) => Promise<unknown>;

/** Walks one execution from StartAt to a terminal state. @throws on unsupported states or more than `maxTransitions`. */
export async function walkExecution(
  definition: AslDefinition,
  input: unknown,
  invoke: TaskInvoker,
  options: { executionArn: string; maxTransitions?: number; startTime?: string },
): Promise<WalkResult> {
  const context = {
    Execution: { Id: options.executionArn, Input: input, StartTime: options.startTime ?? new Date().toISOString() },
  };
  const maxTransitions = options.maxTransitions ?? 10_000;
  const tasks: Record<string, number> = {};
  let data: unknown = input;
  let name = definition.StartAt;
  for (let transitions = 1; transitions <= maxTransitions; transitions++) {
    const state = definition.States[name];
    if (!state) throw new Error(`state machine has no state '${name}'`);
    switch (state.Type) {
      case 'Succeed':
      case 'Fail':
        return { transitions, tasks, endState: name, endType: state.Type, output: data };
      case 'Pass':
      case 'Wait':
        break;
      case 'Task': {
        const resource = state.Resource ?? 'unknown';
        tasks[resource] = (tasks[resource] ?? 0) + 1;
        const payload = state.Parameters === undefined ? data : resolveParameters(state.Parameters, data, context);
        const result = await invoke(resource, payload);
        if (state.ResultPath === undefined || state.ResultPath === '$') data = result;
        else if (state.ResultPath !== null) throw new Error(`ResultPath ${state.ResultPath} is not supported`);
        if (state.End) return { transitions, tasks, endState: name, endType: 'Task', output: data };
        break;
      }
      case 'Choice': {
        const rule = (state.Choices ?? []).find((r) => matches(r, data));
        const next = rule?.Next ?? state.Default;
        if (next === undefined) throw new Error(`Choice '${name}' matched nothing and has no Default`);
        name = next;
        continue;
      }
      default:
        throw new Error(`state type ${state.Type} ('${name}') is not supported`);
    }
    if (state.Next === undefined) throw new Error(`state '${name}' has no Next`);
    name = state.Next;
  }
  throw new Error(`execution did not end within ${maxTransitions} transitions`);
}

function matches(rule: AslRule, data: unknown): boolean {
  if (rule.And) return rule.And.every((r) => matches(r, data));
  if (rule.Or) return rule.Or.some((r) => matches(r, data));
  if (rule.Not) return !matches(rule.Not, data);
  const value = rule.Variable === undefined ? undefined : path(rule.Variable, data, {});
  if (rule.StringEquals !== undefined) return value === rule.StringEquals;
  if (rule.BooleanEquals !== undefined) return value === rule.BooleanEquals;
  if (rule.NumericEquals !== undefined) return value === rule.NumericEquals;
  throw new Error(`choice rule ${JSON.stringify(rule)} is not supported`);
}

function resolveParameters(parameters: Record<string, unknown>, data: unknown, context: unknown): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(parameters)) {
    if (key.endsWith('.$')) out[key.slice(0, -2)] = path(String(value), data, context);
    else if (value && typeof value === 'object' && !Array.isArray(value)) {
      out[key] = resolveParameters(value as Record<string, unknown>, data, context);
    } else out[key] = value;
  }
  return out;
}

/** `$.a.b` into the state data, `$$.a.b` into the context object. */
function path(expression: string, data: unknown, context: unknown): unknown {
  const [root, rest] = expression.startsWith('$$') ? [context, expression.slice(2)] : [data, expression.slice(1)];
  if (rest === '') return root;
  if (!rest.startsWith('.')) throw new Error(`path ${expression} is not supported`);
  return rest
    .slice(1)
    .split('.')
    .reduce<unknown>((value, key) => (value as Record<string, unknown> | undefined)?.[key], root);
}
