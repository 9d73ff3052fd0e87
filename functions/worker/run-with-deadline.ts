import type { JobTimeoutError } from '../../shared/index.js';

/**
 * Runs `work` with an AbortSignal that fires at `deadline` (epoch ms), and
 * fails the attempt with JobTimeoutError at that moment even if `work` ignores
 * the signal: the attempt must end before the Lambda does, or its outcome would
 * never be recorded.
 */
export async function runWithDeadline<T>(
  work: (signal: AbortSignal) => Promise<T>,
  deadline: number,
  timeoutError: () => JobTimeoutError,
  now: () => number = Date.now,
): Promise<T> {
  const controller = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => {
        const error = timeoutError();
        controller.abort(error);
        reject(error);
      },
      Math.max(0, deadline - now()),
    );
  });
  try {
    return await Promise.race([work(controller.signal), expired]);
  } finally {
    clearTimeout(timer);
  }
}
