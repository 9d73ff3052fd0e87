/** The CLI's help text; shell completion reads each command's options from it too. */
export const HELP = `jobstack — serverless background jobs on AWS

usage: jobstack <command> [options]

commands:
  local up | down | bridge            start the local emulator, deploy your CDK app to it and start the metrics bridge /
                                      stop what jobstack started / run the metrics bridge in the foreground
  enqueue <type> --payload <json>     enqueue a job [--delay 30s|3h|30d | --run-at ISO] [--job-id ID]
                                      [--idempotency-key K [--idempotency-window 24h]] [--priority LEVEL]
  schedules                           list recurring schedules (declared in the registry, created at runtime)
  schedule <name> --cron C|--rate R <type> --payload <json>   create a recurring schedule [--timezone TZ]
  unschedule <name>                   delete a recurring schedule created at runtime
  get <jobId>                         show a job record (with its batch, parent, children and follow-up links)
  batch <batchId>                     a batch's counts (pending, succeeded, dead, cancelled), callbacks and members
  logs <jobId> [--limit N]            the job's log lines from CloudWatch Logs (every function of the stack), oldest first
  wait <jobId> [--timeout 60s]        wait for a job; exit 0 succeeded, 1 dead/cancelled, 2 timed out
  list [--state S] [--type T]         list jobs, newest first [--limit N] [--cursor C]
  cancel <jobId>                      cancel a job (a running one is asked to stop)
  retry <jobId>                       re-run a dead job (same id, new series of attempts)
  resolve-step <jobId> <step>         settle a ctx.once step of unknown outcome: --result <json> (it happened) or
                                      --rerun (it did not); --retry then re-runs the dead job
  redrive [--queue Q] [--error NAME]  move dead letters back to their queue [--limit N]
  pause <queue> [--reason TEXT]       pause a logical queue: enqueues keep landing, nothing starts until resume;
        [--keep-on-deploy]            the next deploy resumes it unless --keep-on-deploy
  resume <queue>                      resume a paused queue; its backlog drains
  queues                              each queue: paused or active (since, why), its event source, its depths
  flow [<type> [--key K]]             the flow control each job type declares; with a type, its state for
                                      one key: slots held, starts in the rate window, debounce mark, throttle window
  stats                               queue depths (visible, in flight, delayed, DLQ) and jobs per state
  watch [--interval 2]                the same, redrawn every 2 seconds until Ctrl-C
  dev [--handlers FILE]               run your handlers here against the stack's queues, reloading on save; the
      [--concurrency N]               deployed workers hold off until Ctrl-C (handlers: the config's, else FILE)
  dashboard [--port 8080]             serve the web dashboard on 127.0.0.1 (queues, jobs, retry/cancel/redrive, metrics)
  metrics [--since 1h] [--period 5m]  the stack's CloudWatch dashboard: a sparkline and the latest value per series
  completion bash | zsh | fish        print a shell completion script (bash, zsh: source <(jobstack completion bash))

project config: jobstack.config.ts (or .mts, .js, .mjs) in the current folder or a parent:
  export default defineConfig({ registry: './src/jobs/contracts.ts', stackName: 'my-app' })
  registry: module whose default export (or export 'registry') is your registry of job contracts;
  optional stackName, endpoint, app (folder of the CDK app local up deploys; default: the config's folder)

options for commands that reach a stack (before or after the command: jobstack --local list):
  --stack NAME      stack name (default: $JOBSTACK_STACK, else the config's stackName, else 'jobstack')
  --local           use the local emulator (the config's local endpoint, else http://127.0.0.1:4566) with its test credentials
  --endpoint URL    use this AWS endpoint (default: the config's endpoint, else the standard AWS environment:
                    AWS_ENDPOINT_URL, profile, region)
  --json            machine-readable output: one JSON document on stdout (watch: one per line), each command's shape
                    in docs/cli/<command>.schema.json (see docs/cli.md); a failure prints one line on stderr,
                    {"error":{"name":"...","message":"..."}}

exit codes: 0 done; 1 failed (also: wait's job ended dead or cancelled, retry's job was not dead); 2 wait timed out;
3 wait failed. A failure prints one line on stderr: what went wrong, or with --json the error object.`;
