import { Match, Template } from 'aws-cdk-lib/assertions';
import { describe, it } from 'vitest';
import { FunctionEnv } from '../../shared/config.js';
import { WITH_TIME } from './fixtures/contracts.js';
import { jobSystemStack } from './fixtures/stacks.js';

describe('LongJobs and large payloads (fault 8)', () => {
  it('gives the step function the payload bucket and read access to its payload objects only', () => {
    // GIVEN a job system with long jobs
    const { stack } = jobSystemStack({ registry: WITH_TIME });
    // WHEN it is synthesized
    const template = Template.fromStack(stack);
    // THEN the step function knows the bucket and its role may read objects under payloads/ (and nothing else in S3)
    const [bucketId] = Object.keys(template.findResources('AWS::S3::Bucket', { Properties: Match.objectLike({}) })).filter((id) =>
      id.includes('PayloadBucket'),
    );
    template.hasResourceProperties('AWS::Lambda::Function', {
      Description: Match.stringLikeRegexp('^jobstack long-job steps'),
      Environment: { Variables: Match.objectLike({ [FunctionEnv.payloadBucket]: { Ref: bucketId } }) },
    });
    const [stepRoleId] = Object.keys(template.findResources('AWS::IAM::Role')).filter((id) => id.includes('StepRole'));
    template.hasResourceProperties('AWS::IAM::Policy', {
      Roles: [{ Ref: stepRoleId }],
      PolicyDocument: {
        Statement: Match.arrayWith([
          {
            Action: 's3:GetObject',
            Effect: 'Allow',
            Resource: { 'Fn::Join': ['', [{ 'Fn::GetAtt': [bucketId, 'Arn'] }, '/payloads/*']] },
          },
        ]),
      },
    });
  });
});
