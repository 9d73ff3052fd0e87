import { implementJob, NonRetryableError } from 'jobstack';
import { batchDone, fanout, square } from '../contracts.js';

export const squareJob = implementJob(square, async ({ n, fail }) => {
  if (fail) throw new NonRetryableError(`demo.square was asked to fail for ${n}`);
  return { square: n * n };
});

/**
 * First run: one child per number, then wait (the attempt ends `waiting`). Resumed run: the children's
 * results are in `ctx.children`; dead children are left out of the sum (`onChildDead: 'continue'`).
 */
export const fanoutJob = implementJob(fanout, async ({ numbers, failing = [] }, ctx) => {
  if (ctx.children === undefined) {
    return ctx.spawnAndWait(
      numbers.map((n) => ({ type: 'demo.square', payload: { n, ...(failing.includes(n) ? { fail: true } : {}) } })),
      { onChildDead: 'continue' },
    );
  }
  const squares = ctx.children.flatMap((child) =>
    child.state === 'succeeded' ? [(child.result as { square: number }).square] : [],
  );
  const sum = squares.reduce((total, value) => total + value, 0);
  const { jobId } = ctx.enqueue('demo.echo', { message: `fanout ${ctx.jobId} summed ${sum}` });
  return { sum, failed: ctx.children.length - squares.length, followUp: jobId };
});

export const batchDoneJob = implementJob(batchDone, async ({ label }) => ({ label }));
