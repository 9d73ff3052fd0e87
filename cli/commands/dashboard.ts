import { parseArgs } from 'node:util';
import { startDashboardServer } from '../../dashboard/server.js';
import { createDashboardApi } from '../../functions/dashboard-api/api.js';
import { createCloudWatchReader, dashboardMetricsSource, resolveDashboardName } from '../../shared/dashboard-metrics/index.js';
import { createAwsClients, createJobClient, resolveStackConfig } from '../../shared/index.js';
import { collectStats } from '../../shared/stats.js';
import { connectionOptions, loadConnection } from '../connect.js';
import { UsageError } from '../errors.js';
import { jsonOutputLine } from '../json/print.js';

/**
 * `jobstack dashboard [--port 8080]`: serves the web dashboard on 127.0.0.1
 * against the configured stack (emulator or AWS) until Ctrl-C.
 */
export async function dashboardCommand(argv: string[]): Promise<void> {
  const { values } = parseArgs({ args: argv, options: { ...connectionOptions, port: { type: 'string', default: '8080' } } });
  const port = Number(values.port);
  if (!Number.isInteger(port) || port < 0 || port > 65_535)
    throw new UsageError(`--port must be 0..65535 (given '${values.port}')`);
  const { registry, stackName, aws } = await loadConnection(values);
  const clients = createAwsClients(aws);
  const config = await resolveStackConfig(clients.cloudFormation, stackName);
  const jobs = createJobClient({ registry, config, clients });
  const api = createDashboardApi({
    jobs,
    registry,
    stats: () => collectStats(clients, config),
    metrics: dashboardMetricsSource(createCloudWatchReader(aws), () => resolveDashboardName(clients.cloudFormation, stackName)),
  });
  let server: Awaited<ReturnType<typeof startDashboardServer>>;
  try {
    server = await startDashboardServer({ api, port });
  } catch (error) {
    if ((error as { code?: string }).code === 'EADDRINUSE')
      throw new UsageError(`port ${port} is in use; pick another with --port`);
    throw error;
  }
  // The URL on stdout, alone on its line, so scripts and tests can read it.
  process.stdout.write(values.json ? jsonOutputLine('dashboard', { url: server.url, stackName }) : `${server.url}\n`);
  process.stderr.write(`jobstack dashboard for stack '${stackName}' (Ctrl-C to stop)\n`);
  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  await server.close();
}
