import { type CloudFormationClient, DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import { ConfigurationError } from '../errors.js';

/**
 * When the stack was last deployed: its `LastUpdatedTime`, or its
 * `CreationTime` when it was never updated (CloudFormation then omits
 * `LastUpdatedTime`). A deploy that changed nothing does not update the stack
 * and does not move this time.
 * @throws ConfigurationError when the stack does not exist or has no time
 */
export async function stackUpdatedAt(cloudFormation: CloudFormationClient, stackName: string): Promise<Date> {
  const output = await cloudFormation.send(new DescribeStacksCommand({ StackName: stackName }));
  const stack = output.Stacks?.[0];
  const time = stack?.LastUpdatedTime ?? stack?.CreationTime;
  if (!time) throw new ConfigurationError(`stack '${stackName}' has no LastUpdatedTime or CreationTime (was it deleted?)`);
  return time;
}
