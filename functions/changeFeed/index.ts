/** The change feed: pure logic shared by its Lambdas (./handler.ts) and the offline tools. */
export {
  DEFAULT_NOISE,
  classifyUserAgent,
  consoleLinkOf,
  isChange,
  resourcesOf,
  toChangeRecord,
  type ChangeRecord,
  type EnvironmentMap,
  type NoiseLists,
  type Via,
} from "./normalize";
export { fireHydrantChangeEvent, genericWebhook, pagerDutyChangeEvent, slackDigest, summarize, whoOf } from "./formats";
export {
  CHANGE_SCHEMA,
  INVOCATION_FAILURE,
  INVOCATION_SUCCESS,
  changePayload,
  fireHydrantIds,
  type ChangePayload,
  type NormalizerSettings,
  type WebhookKind,
} from "./payload";
export { postChangeDigests } from "./digest";
