import { type CloudFormationClient, DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import { ConfigurationError } from '../errors.js';

/** The stack output holding the name of the job system's CloudWatch dashboard. */
export const DASHBOARD_NAME_OUTPUT = 'DashboardName';

/**
 * The name of the CloudWatch dashboard a deployed job system created, from its stack output.
 * @throws ConfigurationError when the stack does not exist or has no such output (deployed before it existed)
 */
export async function resolveDashboardName(cloudFormation: CloudFormationClient, stackName: string): Promise<string> {
  let outputs: { OutputKey?: string; OutputValue?: string }[];
  try {
    const output = await cloudFormation.send(new DescribeStacksCommand({ StackName: stackName }));
    outputs = output.Stacks?.[0]?.Outputs ?? [];
  } catch (error) {
    throw new ConfigurationError(`cannot read stack '${stackName}': ${(error as Error).message}`, { cause: error });
  }
  const name = outputs.find((output) => output.OutputKey === DASHBOARD_NAME_OUTPUT)?.OutputValue;
  if (!name) {
    throw new ConfigurationError(
      `stack '${stackName}' has no output '${DASHBOARD_NAME_OUTPUT}': redeploy it with this jobstack version ` +
        '(`jobstack local up` or `npx cdk deploy`)',
    );
  }
  return name;
}
