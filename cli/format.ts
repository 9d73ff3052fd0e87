import type { BatchInfo } from '../shared/flows/types.js';
import type { JobRecord } from '../shared/index.js';

/** A plain text table: columns padded to their widest cell. */
export function formatTable(headers: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = headers.map((header, column) => Math.max(header.length, ...rows.map((row) => (row[column] ?? '').length)));
  const line = (cells: readonly string[]) =>
    cells
      .map((cell, column) => cell.padEnd(widths[column] ?? 0))
      .join('  ')
      .trimEnd();
  return [line(headers), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n');
}

export function formatRecord(record: JobRecord, links: { readonly children?: BatchInfo } = {}): string {
  const children = links.children;
  const lines: [string, string | undefined][] = [
    ['id', record.id],
    ['type', record.type],
    ['state', record.state],
    ['queue', record.queue],
    ['priority', record.priority],
    ['fairness key', record.fairnessKey],
    ['ordering key', record.orderingKey],
    ['attempts', `${record.attempts} of ${record.maxAttempts}`],
    ['created', record.createdAt],
    ['started', record.startedAt],
    ['finished', record.finishedAt],
    ['run at', record.runAt],
    ['next attempt', record.nextAttemptAt],
    [
      'progress',
      record.progress ? `${record.progress.percent}%${record.progress.message ? ` ${record.progress.message}` : ''}` : undefined,
    ],
    ['steps', record.steps === undefined ? undefined : String(record.steps)],
    ['execution', record.executionArn],
    [
      'payload',
      record.payloadRef
        ? `in s3://${record.payloadRef.bucket}/${record.payloadRef.key} (${record.payloadRef.sizeBytes} bytes)`
        : summarize(record.payload),
    ],
    ['result', record.result === undefined ? undefined : summarize(record.result)],
    [
      'error',
      record.error ? `${record.error.name}: ${record.error.message}${record.error.retryable ? ' (retryable)' : ''}` : undefined,
    ],
    ['cancel requested', record.cancelRequested ? 'yes' : undefined],
    ['batch', record.batchId === undefined ? undefined : `${record.batchId} (jobstack batch ${record.batchId})`],
    ['parent', record.parentId],
    ['enqueued by', record.enqueuedBy],
    ['callback of', record.callbackOf === undefined ? undefined : `batch ${record.callbackOf}`],
    [
      'children',
      record.waitingFor === undefined
        ? undefined
        : children === undefined
          ? `batch ${record.waitingFor}`
          : `${formatCounts(children)}: ${children.memberIds.slice(0, 10).join(', ')}${children.total > 10 ? ', …' : ''}`,
    ],
    [
      'history',
      record.history?.length
        ? record.history.map((h) => `${h.reason} after ${h.attempts} attempts (${h.state})`).join('; ')
        : undefined,
    ],
  ];
  const shown = lines.filter((entry): entry is [string, string] => entry[1] !== undefined);
  const width = Math.max(...shown.map(([label]) => label.length));
  return shown.map(([label, value]) => `${label.padEnd(width)}  ${value}`).join('\n');
}

/** `3 of 5 ended (2 succeeded, 1 dead, 0 cancelled), complete`. */
export function formatCounts(batch: BatchInfo): string {
  return `${batch.total - batch.pending} of ${batch.total} ended (${batch.succeeded} succeeded, ${batch.dead} dead, ${batch.cancelled} cancelled), ${batch.status}`;
}

export function summarize(value: unknown, maxChars = 120): string {
  const json = JSON.stringify(value) ?? 'undefined';
  return json.length > maxChars ? `${json.slice(0, maxChars - 1)}…` : json;
}
