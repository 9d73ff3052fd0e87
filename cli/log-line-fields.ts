/**
 * The fields of a jobstack function's structured log line (Powertools Logger plus the job's keys)
 * that say where the line came from rather than what happened. `jobstack logs` and `jobstack dev`
 * print them in their own columns, or not at all, and show every other field as the line's details.
 */
export const LOG_LINE_ENVELOPE_FIELDS: ReadonlySet<string> = new Set([
  'level',
  'message',
  'timestamp',
  'service',
  'cold_start',
  'function_arn',
  'function_memory_size',
  'function_name',
  'function_request_id',
  'sampling_rate',
  'xray_trace_id',
  'jobId',
  'attempt',
]);
