import type { Tracer } from '@aws-lambda-powertools/tracer';
import type { MiddlewareObj } from '@middy/core';

/** The Powertools Tracer of a function and its middy middleware (the handler's segment, the ColdStart annotation). */
export interface FunctionTracing {
  readonly tracer: Tracer;
  readonly middleware: MiddlewareObj;
}

/**
 * Whether Powertools' Tracer traces in this environment, by its own rule: inside Lambda (`AWS_EXECUTION_ENV`),
 * not under SAM local or the Amplify mock, and `POWERTOOLS_TRACE_ENABLED` not `false` (what the `JobSystem`
 * construct sets with `tracing: false`). Elsewhere it would be a no-op, so the X-Ray SDK is not loaded at all.
 */
export function tracingEnabled(env: NodeJS.ProcessEnv): boolean {
  const executionEnv = env.AWS_EXECUTION_ENV ?? '';
  if (executionEnv === '' || executionEnv === 'AWS_Lambda_amplify-mock') return false;
  if ((env.AWS_SAM_LOCAL ?? '') !== '') return false;
  return (env.POWERTOOLS_TRACE_ENABLED ?? '').toLowerCase() !== 'false';
}

/**
 * Loads the Tracer (and with it the X-Ray SDK, about 120 KB of code) by `import()`, so a bundle keeps it in a
 * chunk of its own that only a traced function loads.
 */
export async function loadTracing(serviceName: string): Promise<FunctionTracing> {
  const [{ Tracer }, { captureLambdaHandler }] = await Promise.all([
    import('@aws-lambda-powertools/tracer'),
    import('@aws-lambda-powertools/tracer/middleware'),
  ]);
  const tracer = new Tracer({ serviceName });
  return { tracer, middleware: captureLambdaHandler(tracer) };
}
