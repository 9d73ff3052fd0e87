import { describe, expect, it } from 'vitest';
import { runCli } from '../../cli/run-cli.js';
import { parseCliJsonError } from '../helpers/cli-json.js';

/** Runs the CLI in this process; every case below fails before any stack is reached. */
async function run(argv: string[]): Promise<{ code: number; stderr: string; stdout: string }> {
  let stderr = '';
  let stdout = '';
  const code = await runCli(argv, {
    stdout: (text) => {
      stdout += text;
    },
    stderr: (text) => {
      stderr += text;
    },
  });
  return { code, stderr, stdout };
}

/** The command line, what the error says, and its name when it is not a UsageError. */
const BAD_INPUT: [string[], RegExp, string?][] = [
  [['frob'], /unknown command 'frob' \(see jobstack --help\)/],
  [['--verbose', 'list'], /unknown option '--verbose' before the command/],
  [['--stack'], /option '--stack' needs a value/],
  [['list', '--frob'], /Unknown option '--frob'/],
  [['list', '--limit'], /Option '--limit <value>' argument missing/],
  [['list', '--limit', '0'], /--limit must be 1\.\.1000 \(given '0'\)/],
  [['list', '--limit', 'ten'], /--limit must be 1\.\.1000 \(given 'ten'\)/],
  [['list', '--state', 'sleeping'], /--state must be one of scheduled, queued, .* \(given 'sleeping'\)/],
  [['list', 'extra'], /Unexpected argument 'extra'/],
  [['enqueue'], /usage: jobstack enqueue <type> --payload <json>/],
  [['enqueue', 'demo.echo', '--payload', '{oops'], /--payload is not valid JSON/],
  [['enqueue', 'demo.echo', '--run-at', 'tomorrow'], /--run-at must be an ISO date-time .* \(given 'tomorrow'\)/],
  [['enqueue', 'demo.echo', '--delay', 'soon'], /invalid duration "soon"/, 'InvalidDurationError'],
  [
    ['enqueue', 'demo.echo', '--idempotency-key', 'k', '--idempotency-window=-1h'],
    /invalid duration "-1h"/,
    'InvalidDurationError',
  ],
  [['enqueue', 'demo.echo', '--delay', '-1h'], /Option '--delay' argument is ambiguous\. Did you forget .* use '--delay=-XYZ'/],
  [['get'], /usage: jobstack get <jobId>/],
  [['get', 'a', 'b'], /usage: jobstack get <jobId>/],
  [['cancel'], /usage: jobstack cancel <jobId>/],
  [['retry', '--frob', 'job-1'], /Unknown option '--frob'/],
  [['batch'], /usage: jobstack batch <batchId>/],
  [['logs', 'job-1', '--limit', '0'], /--limit must be a whole number of 1 or more \(given '0'\)/],
  [['redrive', '--limit=-5'], /--limit must be a positive integer \(given '-5'\)/],
  [['resolve-step', 'job-1', 'step'], /give exactly one of --result and --rerun/],
  [['resolve-step', 'job-1', 'step', '--result', '1', '--rerun'], /give exactly one of --result and --rerun/],
  [['resolve-step', 'job-1', 'step', '--result', '{'], /--result is not valid JSON/],
  [['pause'], /usage: jobstack pause <queue>/],
  [['pause', 'emails', '--reason', ' '], /--reason must not be empty/],
  [['resume', 'a', 'b'], /usage: jobstack resume <queue>/],
  [['queues', '--frob'], /Unknown option '--frob'/],
  [['flow', 'a', 'b'], /usage: jobstack flow \[<type> \[--key K\]\]/],
  [['stats', '--interval', '2'], /Unknown option '--interval'/],
  [['watch', '--interval', '0.1'], /--interval must be 0\.5\.\.3600 seconds \(given '0\.1'\)/],
  [['metrics', '--since', 'soon'], /--since/],
  [['dashboard', '--port', '70000'], /--port must be 0\.\.65535 \(given '70000'\)/],
  [['dev', '--concurrency', '0'], /--concurrency must be a whole number from 1 to 50 \(given '0'\)/],
  [['schedules', 'extra'], /usage: jobstack schedules/],
  [['schedule', 'nightly', 'demo.echo'], /usage: jobstack schedule <name> --cron/],
  [['schedule', 'nightly', '--rate', '1 hour', 'demo.echo', '--payload', '{'], /--payload is not valid JSON/],
  [['unschedule'], /usage: jobstack unschedule <name>/],
  [['local', 'sideways'], /usage: jobstack local up\|down\|bridge/],
  [['local', 'bridge', '--interval-ms', '5'], /--interval-ms must be a whole number of milliseconds in 500\.\.60000/],
  [['completion', 'tcsh'], /usage: jobstack completion bash\|zsh\|fish \(given 'tcsh'\)/],
];

describe('bad input: one clear line on stderr and a non-zero exit, before any stack is reached', () => {
  it.each(BAD_INPUT)('%j', async (argv, message, errorName) => {
    const result = await run(argv);
    expect(result.code).toBe(1);
    expect(result.stdout).toBe('');
    expect(result.stderr).toMatch(/^jobstack: [^\n]+\n$/);
    expect(result.stderr).toMatch(message);
    if (errorName !== undefined) expect(result.stderr).toContain(`jobstack: ${errorName}: `);
  });

  // The commands without --json output refuse it first: see below.
  const withJsonOutput = BAD_INPUT.filter(([argv]) => !['dev', 'local', 'completion'].includes(argv[0] as string));

  it.each(withJsonOutput)('%j --json: the error object on one line', async (argv, message, errorName) => {
    // Right after the command: at the end, '--json' would be the value of a last option missing its own.
    const result = await run([...argv.slice(0, 1), '--json', ...argv.slice(1)]);
    expect(result.code).toBe(1);
    expect(result.stdout).toBe('');
    const { error } = parseCliJsonError(result.stderr);
    expect(error.message).toMatch(message);
    // A mistake in the command line is a UsageError whichever part found it; a malformed duration is the SDK's own error.
    expect(error.name).toBe(errorName ?? 'UsageError');
  });

  it('takes --json before the command too', async () => {
    const result = await run(['--json', 'list', '--limit', '0']);
    expect(parseCliJsonError(result.stderr).error).toEqual({
      name: 'UsageError',
      message: "--limit must be 1..1000 (given '0')",
    });
  });

  it('wait exits 3 when it cannot wait at all (2 is its timeout, 1 a job that ended dead or cancelled)', async () => {
    for (const argv of [['wait'], ['wait', 'job-1', '--timeout', 'forever']]) {
      const result = await run(argv);
      expect(result.code).toBe(3);
      expect(result.stderr.trimEnd().split('\n')).toHaveLength(1);
    }
    expect((await run(['wait', 'job-1', '--timeout', 'forever'])).stderr).toMatch(
      /InvalidDurationError: invalid duration "forever"/,
    );
  });

  it.each([['dev'], ['local', 'bridge'], ['completion', 'bash']])('%j has no --json output and says so', async (...argv) => {
    const result = await run([...argv, '--json']);
    expect(result.code).toBe(1);
    expect(parseCliJsonError(result.stderr).error.message).toMatch(/no --json output|Unknown option '--json'/);
  });

  it('prints the help on stdout: exit 0 when asked for, 1 without a command', async () => {
    const asked = await run(['--help']);
    expect(asked.code).toBe(0);
    expect(asked.stdout).toMatch(/^jobstack — serverless background jobs/);
    expect((await run([])).code).toBe(1);
  });
});
