import { DashboardBodyError } from './errors.js';

/** CloudWatch's defaults for a graph metric that names neither (as the console draws it). */
const DEFAULT_PERIOD_SECONDS = 300;
const DEFAULT_STAT = 'Average';

/** One series of a graph widget as the dashboard defines it. */
export type SeriesDefinition =
  | {
      readonly kind: 'metric';
      readonly id?: string;
      readonly label: string;
      readonly namespace: string;
      readonly metricName: string;
      readonly dimensions: Readonly<Record<string, string>>;
      readonly stat: string;
      readonly periodSeconds: number;
      /** false for a metric only an expression uses (`visible: false`). */
      readonly visible: boolean;
    }
  | {
      readonly kind: 'expression';
      readonly id?: string;
      readonly label: string;
      /** Metric math or a SEARCH expression. */
      readonly expression: string;
      readonly periodSeconds: number;
      readonly visible: boolean;
    };

/** A metric (graph) widget of the dashboard: its title and series. */
export interface MetricWidget {
  readonly title: string;
  readonly series: readonly SeriesDefinition[];
}

type Json = Record<string, unknown>;

const isObject = (value: unknown): value is Json => typeof value === 'object' && value !== null && !Array.isArray(value);

/**
 * The metric widgets of a CloudWatch dashboard body
 * (https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/CloudWatch-Dashboard-Body-Structure.html),
 * in the dashboard's order. Other widget types (alarm status, text, logs) hold no metric series and are
 * left out. A row may repeat the row above with `"."` in a position (the console's shorthand).
 * @throws DashboardBodyError when the body is not a dashboard's JSON or a metric row is malformed
 */
export function parseDashboardWidgets(body: string): MetricWidget[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch (error) {
    throw new DashboardBodyError(`the dashboard body is not JSON: ${(error as Error).message}`);
  }
  if (!isObject(parsed) || !Array.isArray(parsed.widgets)) {
    throw new DashboardBodyError('the dashboard body has no "widgets" list');
  }
  const widgets: MetricWidget[] = [];
  parsed.widgets.forEach((widget: unknown, index: number) => {
    if (!isObject(widget) || widget.type !== 'metric' || !isObject(widget.properties)) return;
    const properties = widget.properties;
    const title = typeof properties.title === 'string' ? properties.title : `widget ${index + 1}`;
    if (!Array.isArray(properties.metrics)) return;
    const defaults = {
      periodSeconds: typeof properties.period === 'number' ? properties.period : DEFAULT_PERIOD_SECONDS,
      stat: typeof properties.stat === 'string' ? properties.stat : DEFAULT_STAT,
    };
    let previous: readonly unknown[] = [];
    const series = properties.metrics.map((row: unknown, rowIndex: number) => {
      if (!Array.isArray(row)) throw new DashboardBodyError(`widget '${title}': metric ${rowIndex + 1} is not a list`);
      const expanded = row.map((cell, position) => (cell === '.' ? previous[position] : cell));
      previous = expanded;
      return seriesOf(expanded, defaults, `widget '${title}', metric ${rowIndex + 1}`);
    });
    widgets.push({ title, series });
  });
  return widgets;
}

function seriesOf(row: readonly unknown[], defaults: { periodSeconds: number; stat: string }, where: string): SeriesDefinition {
  const last = row.at(-1);
  const options: Json = isObject(last) ? last : {};
  const cells = isObject(last) ? row.slice(0, -1) : row;
  const id = typeof options.id === 'string' ? { id: options.id } : {};
  const periodSeconds = typeof options.period === 'number' ? options.period : defaults.periodSeconds;
  const visible = options.visible !== false;
  if (typeof options.expression === 'string') {
    if (cells.length > 0) throw new DashboardBodyError(`${where}: an expression row names a metric too`);
    return {
      kind: 'expression',
      ...id,
      label: typeof options.label === 'string' ? options.label : options.expression,
      expression: options.expression,
      periodSeconds,
      visible,
    };
  }
  if (cells.includes('...')) throw new DashboardBodyError(`${where}: the "..." shorthand is not supported; spell the row out`);
  if (cells.length < 2 || cells.length % 2 !== 0 || !cells.every((cell) => typeof cell === 'string' && cell !== '')) {
    throw new DashboardBodyError(
      `${where}: expected [namespace, metricName, dimensionName, dimensionValue, ..., options?] (given ${JSON.stringify(row)})`,
    );
  }
  const [namespace, metricName, ...pairs] = cells as string[];
  const dimensions: Record<string, string> = {};
  for (let i = 0; i < pairs.length; i += 2) dimensions[pairs[i] as string] = pairs[i + 1] as string;
  return {
    kind: 'metric',
    ...id,
    label: typeof options.label === 'string' ? options.label : (metricName as string),
    namespace: namespace as string,
    metricName: metricName as string,
    dimensions,
    stat: typeof options.stat === 'string' ? options.stat : defaults.stat,
    periodSeconds,
    visible,
  };
}
