export {
  type CloudWatchReader,
  createCloudWatchReader,
  type MetricDataQuery,
  type MetricDataResult,
  type MetricId,
} from './cloudwatch-reader.js';
export { DASHBOARD_NAME_OUTPUT, resolveDashboardName } from './dashboard-name.js';
export { DashboardBodyError, MetricsReadError } from './errors.js';
export {
  type DashboardMetricsSource,
  dashboardMetricsSource,
  parseSearch,
  type ReadDashboardMetricsOptions,
  readDashboardMetrics,
  type SchemaSearch,
} from './read.js';
export { type DashboardMetrics, dashboardMetricsSchema, type SeriesMetrics, type WidgetMetrics } from './schema.js';
export { type MetricWidget, parseDashboardWidgets, type SeriesDefinition } from './widgets.js';
export { DEFAULT_SINCE, MAX_POINTS, type MetricsWindow, parseMetricsWindow } from './window.js';
