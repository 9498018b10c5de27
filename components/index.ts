/**
 * `trailwatch/components`: the components another Pulumi program can use, with their Args, and the building blocks
 * they are made of. Every class here is a `pulumi.ComponentResource`; pass a provider for the account it belongs in.
 * This list is the package's public surface (package.json "exports"): modules not named here are internal.
 */
// The event backbone and organization-wide services.
export { CentralEventBus, type CentralEventBusArgs, type Subscription, type SubscriptionTarget } from "./centralEventBus";
export { OrgTrail, type OrgTrailArgs } from "./orgTrail";
export { OrganizationForwarders, type OrganizationForwardersArgs, MemberForwarder, type MemberForwarderArgs } from "./memberForwarder";
export { GuardDutyOrg, type GuardDutyOrgArgs } from "./guardDutyOrg";
export { ConfigAggregation, type ConfigAggregationArgs } from "./configAggregation";
export { ExistingTrailAlarms, type ExistingTrailAlarmsArgs } from "./existingTrailAlarms";
export { StackSetsOrganizationsAccess, type StackSetsOrganizationsAccessArgs } from "./stackSetsAccess";
// Response features.
export { SgRevertBot, type SgRevertBotArgs } from "./sgRevertBot";
export { ScpWatch, type ScpWatchArgs } from "./scpWatch";
export { DenyAdvisor, type DenyAdvisorArgs } from "./denyAdvisor";
export { DenyDecodeSpokes, type DenyDecodeSpokesArgs } from "./denyDecodeSpokes";
export { FindingsRouter, type FindingsRouterArgs } from "./findingsRouter";
export { ChangeFeed, type ChangeFeedArgs } from "./changeFeed";
export { ThirdPartyRole, type ThirdPartyRoleArgs } from "./thirdPartyRole";
export { SlackApp, type SlackAppArgs, type SlackFeature } from "./slackApp";
export { SlackOutbox, type SlackOutboxArgs } from "./slackOutbox";
// Building blocks.
export { InlineFunction, type InlineFunctionArgs, type FunctionTransforms } from "./lambda";
export { SecureBucket, type SecureBucketArgs } from "./bucket";
export { encryptedTable, type EncryptedTableArgs } from "./table";
export { scheduleFunction, type ScheduleArgs } from "./schedule";
export { organization, organizationStackSet, type OrganizationArgs, type OrganizationStackSetArgs, type OrganizationStackSet, type OrgContext, type OrgAccount } from "./org";
export { type Transform, transformed } from "./transform";
export { policy, policyJson, readSecret, useKey, type Statement, type PolicyDocument } from "./iam";
