import { parseArgs } from 'node:util';
import { connect, connectionOptions } from '../connect.js';
import { UsageError } from '../errors.js';
import { formatCounts, formatTable, summarize } from '../format.js';
import { printJsonOutput } from '../json/print.js';

/** Members listed by `jobstack batch` (the counts cover every member). */
const MEMBERS_SHOWN = 50;

/** `jobstack batch <id>`: a batch's counts, its callbacks or parent, and its first members with their states. */
export async function batchCommand(argv: string[]): Promise<void> {
  const { values, positionals } = parseArgs({ args: argv, allowPositionals: true, options: connectionOptions });
  const [batchId] = positionals;
  if (!batchId || positionals.length > 1) throw new UsageError('usage: jobstack batch <batchId>');
  const jobs = await connect(values);
  const batch = await jobs.getBatch(batchId);
  if (!batch) throw new UsageError(`batch '${batchId}' not found (or expired)`);
  const members = await jobs.getMany(batch.memberIds.slice(0, MEMBERS_SHOWN));
  if (values.json) {
    printJsonOutput('batch', { ...batch, members });
    return;
  }
  const lines = [
    `batch ${batch.batchId} (${batch.kind === 'children' ? `children of ${batch.parentId}` : 'jobs.batch'})`,
    formatCounts(batch),
    `pending ${batch.pending}  succeeded ${batch.succeeded}  dead ${batch.dead}  cancelled ${batch.cancelled}`,
    `created ${batch.createdAt}${batch.completedAt ? `  completed ${batch.completedAt}` : ''}`,
    ...(batch.onComplete ? [`onComplete ${batch.onComplete.type} → job ${batch.onComplete.jobId}`] : []),
    ...(batch.onSuccess ? [`onSuccess ${batch.onSuccess.type} → job ${batch.onSuccess.jobId} (if every member succeeds)`] : []),
    ...(batch.onChildDead ? [`onChildDead ${batch.onChildDead}`] : []),
    '',
    formatTable(
      ['MEMBER', 'TYPE', 'STATE', 'RESULT / ERROR'],
      members.map((member) => [
        member.id,
        member.type,
        member.state,
        member.error ? `${member.error.name}: ${summarize(member.error.message, 60)}` : summarize(member.result, 60),
      ]),
    ),
    ...(batch.total > MEMBERS_SHOWN ? [`(first ${MEMBERS_SHOWN} of ${batch.total} members)`] : []),
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
}
