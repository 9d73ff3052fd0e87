import { parseArgs } from 'node:util';
import { DEFAULT_STACK_NAME } from '../../shared/index.js';
import { UsageError } from '../errors.js';
import { printJson } from '../format.js';
import { deployToEmulator } from '../local/deploy.js';
import { DEFAULT_ENDPOINT, ensureEmulator, stopEmulator } from '../local/emulator.js';

const log = (line: string) => process.stderr.write(`${line}\n`);

/** `jobstack local up|down`: the emulator plus a deploy of the real stack, or stopping what we started. */
export async function localCommand(argv: string[]): Promise<void> {
  const [action, ...rest] = argv;
  const { values } = parseArgs({
    args: rest,
    options: { stack: { type: 'string' }, endpoint: { type: 'string' }, json: { type: 'boolean' } },
  });
  if (action === 'up') {
    const outputs = await bringUpLocalStack({ stackName: values.stack, endpoint: values.endpoint });
    if (values.json) printJson(outputs);
    else log(`local stack '${outputs.stackName}' is ready on ${outputs.endpoint}`);
    return;
  }
  if (action === 'down') {
    const stopped = await stopEmulator({ endpoint: values.endpoint ?? DEFAULT_ENDPOINT, log });
    if (values.json) printJson({ stopped });
    return;
  }
  throw new UsageError('usage: jobstack local up|down [--stack NAME] [--endpoint URL]');
}

/** Starts the emulator if none answers, deploys the stack to it and returns where it is. */
export async function bringUpLocalStack(options: { stackName?: string | undefined; endpoint?: string | undefined }) {
  const stackName = options.stackName ?? process.env.JOBSTACK_STACK ?? DEFAULT_STACK_NAME;
  const { endpoint, startedByUs } = await ensureEmulator({ endpoint: options.endpoint ?? DEFAULT_ENDPOINT, log });
  const outputs = await deployToEmulator({ endpoint, stackName, log });
  return { stackName, endpoint, startedByUs, outputs };
}
