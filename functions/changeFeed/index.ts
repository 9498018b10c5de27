/** The change feed (issue 10): pure logic shared by the Lambda and the offline tools. */
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
