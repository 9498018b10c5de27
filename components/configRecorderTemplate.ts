/**
 * The StackSet template that turns on AWS Config in one member account and region: a recorder for all supported
 * resource types (global types, such as IAM, in the home region only, so they are not recorded once per region),
 * a delivery channel to the central bucket under its KMS key, and the recorder role with the AWS managed policy.
 * Each region's stack stands on its own: it creates its own role (`trailwatch-config-recorder-<region>`: IAM names are
 * global, so one per region) and the recorder takes it through Fn::GetAtt, so CloudFormation creates the role first.
 * A role made only by the home region's stack left the other regions depending on stack order, which StackSet
 * operation preferences do not guarantee for auto-deployment to a new account.
 * https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/stacksets-orgs-manage-auto-deployment.html
 * https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/aws-attribute-dependson.html
 * https://docs.aws.amazon.com/config/latest/developerguide/select-resources.html
 * The management account gets the same resources directly (StackSets never deploy to it).
 */
import type { CfnTemplate } from "./forwarderTemplate";

/** The management account's recorder role; member accounts' are `${CONFIG_RECORDER_ROLE}-<region>`. */
export const CONFIG_RECORDER_ROLE = "trailwatch-config-recorder";
export const CONFIG_MANAGED_POLICY = "service-role/AWS_ConfigRole";

export function configRecorderTemplate(): CfnTemplate {
  const sub = (s: string) => ({ "Fn::Sub": s });
  return {
    AWSTemplateFormatVersion: "2010-09-09",
    Description: "trailwatch: AWS Config recorder and delivery channel to the organization's central bucket",
    Parameters: {
      BucketName: { Type: "String", Description: "Central Config bucket (log-archive account)" },
      KmsKeyArn: { Type: "String", Description: "KMS key of the central bucket", AllowedPattern: "^arn:aws[a-z-]*:kms:[a-z0-9-]+:\\d{12}:key/.+$" },
      HomeRegion: { Type: "String", Description: "The one region that records global resource types" },
      SnapshotFrequency: { Type: "String", Description: "Configuration snapshot delivery frequency" },
    },
    Conditions: { IsHomeRegion: { "Fn::Equals": [{ Ref: "AWS::Region" }, { Ref: "HomeRegion" }] } },
    Resources: {
      RecorderRole: {
        Type: "AWS::IAM::Role",
        Properties: {
          RoleName: sub(`${CONFIG_RECORDER_ROLE}-\${AWS::Region}`),
          Description: "AWS Config records resources and delivers them to the trailwatch central bucket",
          AssumeRolePolicyDocument: {
            Version: "2012-10-17",
            Statement: [
              {
                Effect: "Allow",
                Principal: { Service: "config.amazonaws.com" },
                Action: "sts:AssumeRole",
                Condition: { StringEquals: { "aws:SourceAccount": { Ref: "AWS::AccountId" } } },
              },
            ],
          },
          ManagedPolicyArns: [sub(`arn:\${AWS::Partition}:iam::aws:policy/${CONFIG_MANAGED_POLICY}`)],
          Policies: [
            {
              PolicyName: "deliver-to-central-bucket",
              PolicyDocument: {
                Version: "2012-10-17",
                Statement: [
                  { Sid: "DeliverToCentralBucket", Effect: "Allow", Action: "s3:PutObject", Resource: sub("arn:${AWS::Partition}:s3:::${BucketName}/AWSLogs/${AWS::AccountId}/Config/*") },
                  { Sid: "CheckCentralBucket", Effect: "Allow", Action: "s3:GetBucketAcl", Resource: sub("arn:${AWS::Partition}:s3:::${BucketName}") },
                  { Sid: "EncryptDeliveries", Effect: "Allow", Action: ["kms:GenerateDataKey", "kms:Decrypt"], Resource: { Ref: "KmsKeyArn" } },
                ],
              },
            },
          ],
        },
      },
      Recorder: {
        Type: "AWS::Config::ConfigurationRecorder",
        Properties: {
          Name: "trailwatch",
          RoleARN: { "Fn::GetAtt": ["RecorderRole", "Arn"] },
          RecordingGroup: { AllSupported: true, IncludeGlobalResourceTypes: { "Fn::If": ["IsHomeRegion", true, false] } },
        },
      },
      DeliveryChannel: {
        Type: "AWS::Config::DeliveryChannel",
        Properties: {
          Name: "trailwatch",
          S3BucketName: { Ref: "BucketName" },
          S3KmsKeyArn: { Ref: "KmsKeyArn" },
          ConfigSnapshotDeliveryProperties: { DeliveryFrequency: { Ref: "SnapshotFrequency" } },
        },
        DependsOn: ["Recorder"],
      },
    },
    Outputs: { RecorderName: { Value: { Ref: "Recorder" } } },
  };
}
