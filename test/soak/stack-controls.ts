import { CloudFormationClient, DescribeStacksCommand, ListStackResourcesCommand } from '@aws-sdk/client-cloudformation';
import {
  GetFunctionConfigurationCommand,
  LambdaClient,
  ListEventSourceMappingsCommand,
  UpdateEventSourceMappingCommand,
  UpdateFunctionConfigurationCommand,
} from '@aws-sdk/client-lambda';
import type { AwsConnection } from '../../shared/index.js';

/**
 * Levers the soak pulls on a deployed stack to recreate production conditions:
 * a backlog (the workers stop taking messages while jobs keep arriving) and a
 * sweeper tuned to act within seconds instead of minutes. Each returns the
 * function that undoes it, so a run leaves the stack as it found it.
 */

/** Physical name of the stack's function whose logical id starts with `prefix` (e.g. 'JobSystemWorker'). */
/** The value of one output of a deployed stack, e.g. the demo stack's ledger table name. */
export async function stackOutput(aws: AwsConnection, stackName: string, key: string): Promise<string> {
  const output = await new CloudFormationClient(aws).send(new DescribeStacksCommand({ StackName: stackName }));
  const value = output.Stacks?.[0]?.Outputs?.find((candidate) => candidate.OutputKey === key)?.OutputValue;
  if (!value) throw new Error(`stack '${stackName}' has no output '${key}'`);
  return value;
}

export async function stackFunctions(aws: AwsConnection, stackName: string, prefix: string): Promise<string[]> {
  const names: string[] = [];
  const cloudFormation = new CloudFormationClient(aws);
  let nextToken: string | undefined;
  do {
    const page = await cloudFormation.send(new ListStackResourcesCommand({ StackName: stackName, NextToken: nextToken }));
    for (const resource of page.StackResourceSummaries ?? []) {
      if (
        resource.ResourceType === 'AWS::Lambda::Function' &&
        resource.LogicalResourceId?.startsWith(prefix) &&
        resource.PhysicalResourceId
      )
        names.push(resource.PhysicalResourceId);
    }
    nextToken = page.NextToken;
  } while (nextToken);
  if (names.length === 0) throw new Error(`stack '${stackName}' has no function whose logical id starts with ${prefix}`);
  return names;
}

/**
 * Disables the event source mappings of the stack's queue workers, so messages
 * pile up in their queues as they would behind a long backlog.
 * @returns resumes them.
 */
export async function pauseWorkers(aws: AwsConnection, stackName: string): Promise<() => Promise<void>> {
  const lambda = new LambdaClient(aws);
  const workers = await stackFunctions(aws, stackName, 'JobSystemWorker');
  const mappings: string[] = [];
  for (const functionName of workers) {
    const output = await lambda.send(new ListEventSourceMappingsCommand({ FunctionName: functionName }));
    for (const mapping of output.EventSourceMappings ?? []) if (mapping.UUID) mappings.push(mapping.UUID);
  }
  const setEnabled = async (enabled: boolean) => {
    for (const uuid of mappings) await lambda.send(new UpdateEventSourceMappingCommand({ UUID: uuid, Enabled: enabled }));
  };
  await setEnabled(false);
  return () => setEnabled(true);
}

/**
 * Merges `variables` into the environment of the stack's sweeper.
 * @returns restores the environment it had.
 */
export async function overrideSweeperEnvironment(
  aws: AwsConnection,
  stackName: string,
  variables: Record<string, string>,
): Promise<() => Promise<void>> {
  const lambda = new LambdaClient(aws);
  const [sweeper] = await stackFunctions(aws, stackName, 'JobSystemSweeper');
  const current = await lambda.send(new GetFunctionConfigurationCommand({ FunctionName: sweeper }));
  const original = current.Environment?.Variables ?? {};
  const apply = (values: Record<string, string>) =>
    lambda.send(new UpdateFunctionConfigurationCommand({ FunctionName: sweeper, Environment: { Variables: values } }));
  await apply({ ...original, ...variables });
  return async () => {
    await apply(original);
  };
}
