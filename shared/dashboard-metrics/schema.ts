import * as z from 'zod';

/**
 * The shape `jobstack metrics --json` prints and the web dashboard's `GET /api/metrics` answers: the
 * dashboard's metric widgets, each series with its points over the window, oldest first.
 */
export const dashboardMetricsSchema = z.object({
  dashboardName: z.string().min(1),
  /** The window read, ISO 8601 (UTC). */
  start: z.iso.datetime(),
  end: z.iso.datetime(),
  widgets: z.array(
    z.object({
      title: z.string(),
      series: z.array(
        z.object({
          label: z.string(),
          /** The statistic (`Sum`, `Maximum`, `p99`, …); `expression` for metric math. */
          stat: z.string(),
          periodSeconds: z.number().int().positive(),
          /** CloudWatch's status of the series; anything but `Complete` comes with a `message`. */
          status: z.enum(['Complete', 'PartialData', 'InternalError', 'Forbidden']),
          message: z.string().optional(),
          points: z.array(z.object({ timestamp: z.iso.datetime(), value: z.number() })),
          /** The newest point's value, or null when the window has none. */
          latest: z.number().nullable(),
        }),
      ),
    }),
  ),
});

export type DashboardMetrics = z.infer<typeof dashboardMetricsSchema>;
export type WidgetMetrics = DashboardMetrics['widgets'][number];
export type SeriesMetrics = WidgetMetrics['series'][number];
