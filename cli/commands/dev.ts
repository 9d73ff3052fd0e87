import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { connectJobClient } from '../../shared/index.js';
import { connectionOptions, loadConnection } from '../connect.js';
import { type DevSession, startDevSession } from '../dev/dev-session.js';
import { installPrettyConsole } from '../dev/pretty-logs.js';
import { BackgroundTypeCheck } from '../dev/type-check.js';
import { UsageError } from '../errors.js';

/**
 * `jobstack dev [--handlers FILE] [--concurrency N]`: runs the project's handlers here against the
 * stack's queues and tables, reloading them on every save, until Ctrl-C.
 */
export async function devCommand(argv: string[]): Promise<void> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: { ...connectionOptions, handlers: { type: 'string' }, concurrency: { type: 'string' } },
  });
  if (positionals.length > 0) throw new UsageError('usage: jobstack dev [--handlers FILE] [--concurrency N]');
  if (values.json) throw new UsageError('jobstack dev has no --json output: it runs until Ctrl-C and logs to stderr');
  const concurrency = values.concurrency === undefined ? 2 : Number(values.concurrency);
  if (!Number.isInteger(concurrency) || concurrency < 1 || concurrency > 50) {
    throw new UsageError(`--concurrency must be a whole number from 1 to 50 (given '${values.concurrency}')`);
  }
  const { project, registry, stackName, aws } = await loadConnection(values);
  const handlersModule = values.handlers === undefined ? project.handlersModule : resolve(values.handlers);
  if (handlersModule === undefined) {
    throw new UsageError(
      "jobstack dev needs your handlers module: add handlers: './src/jobs/handlers.ts' to jobstack.config.ts, or pass --handlers FILE",
    );
  }
  const jobs = await connectJobClient({ registry, stackName, aws });
  const say = (line: string) => process.stderr.write(`jobstack dev: ${line}\n`);
  const restoreConsole = installPrettyConsole();
  let session: DevSession | undefined;
  let stopping: Promise<void> | undefined;
  const stop = (code: number) => {
    stopping ??= (async () => {
      try {
        await session?.stop();
      } finally {
        restoreConsole();
        process.exit(code);
      }
    })();
    return stopping;
  };
  process.once('SIGINT', () => void stop(0));
  process.once('SIGTERM', () => void stop(0));
  // A crash must still give the deployed workers back.
  process.once('uncaughtException', (error) => {
    say(`crashed: ${error.stack ?? String(error)}`);
    void stop(1);
  });
  const typeCheck = BackgroundTypeCheck.forProject(project.projectDir);
  try {
    session = await startDevSession({
      config: jobs.config,
      aws,
      handlersModule,
      buildDir: join(project.projectDir, '.jobstack', 'dev'),
      concurrency,
      ...(typeCheck ? { typeCheck } : {}),
      log: say,
    });
  } catch (error) {
    restoreConsole();
    throw error;
  }
  say(`running ${handlersModule} against stack '${stackName}' (${concurrency} batches at once per queue); Ctrl-C to stop`);
  await new Promise<never>(() => undefined);
}
