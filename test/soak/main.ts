/**
 * `npm run soak [-- --jobs N --seed S --backlog 30s]`: brings the local stack up and runs the
 * fault-injection soak against it, printing the report as JSON.
 */
import { parseArgs } from 'node:util';
import { bringUpLocalStack } from '../../cli/commands/local.js';
import { registry } from '../../functions/jobs/contracts.js';
import { connectJobClient, DEFAULT_STACK_NAME, LOCAL_ENDPOINT, localConnection, parseDuration } from '../../shared/index.js';
import { runSoak } from './soak.js';

const { values } = parseArgs({
  options: {
    jobs: { type: 'string', default: '1000' },
    seed: { type: 'string', default: '42' },
    backlog: { type: 'string', default: '30s' },
  },
});
// JOBSTACK_SKIP_DEPLOY=1 soaks the stack already deployed on the local emulator.
const { stackName, endpoint } =
  process.env.JOBSTACK_SKIP_DEPLOY === '1'
    ? { stackName: process.env.JOBSTACK_STACK ?? DEFAULT_STACK_NAME, endpoint: LOCAL_ENDPOINT }
    : await bringUpLocalStack({});
const aws = localConnection(endpoint);
const jobs = await connectJobClient({ registry, stackName, aws });
const report = await runSoak({
  jobs,
  aws,
  count: Number(values.jobs),
  seed: Number(values.seed),
  timeoutMs: 30 * 60_000,
  backlogMs: parseDuration(values.backlog),
  log: (line) => process.stderr.write(`${line}\n`),
});
process.stdout.write(`${JSON.stringify({ ...report, wrongOutcome: report.wrongOutcome.slice(0, 20) }, null, 2)}\n`);
const backlogClean = report.backlog === undefined || (report.backlog.resent === 0 && report.backlog.ended === 0);
const clean =
  report.wrongOutcome.length === 0 &&
  report.duplicatedEffects === 0 &&
  report.missingEffects === 0 &&
  report.deadWithoutCopy === 0 &&
  report.flow.extraAttempts === 0 &&
  report.flow.liveSlots === 0 &&
  report.flow.unreleased.length === 0 &&
  backlogClean;
process.exitCode = clean ? 0 : 1;
