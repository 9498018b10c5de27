/**
 * What the change feed's normalizer returns for one central-bus event: null for anything that is not a change, else
 * the change record and one ready-to-send body per configured webhook kind. Lambda puts the return value on the bus
 * (destinations), where one rule per webhook sends the kind's body to its API destination.
 */
import { cloudTrailRecordOf, type CloudTrailRecord } from "../cloudtrail";
import { fireHydrantChangeEvent, genericWebhook, pagerDutyChangeEvent } from "./formats";
import { DEFAULT_NOISE, isChange, toChangeRecord, type ChangeRecord, type EnvironmentMap } from "./normalize";

/** The receivers the change feed formats payloads for. */
export type WebhookKind = "firehydrant" | "pagerduty" | "generic";

/** The `schema` of every payload the normalizer returns; rules match on it. */
import { CHANGE_SCHEMA, INVOCATION_FAILURE, INVOCATION_SUCCESS } from "../patterns";
export { CHANGE_SCHEMA, INVOCATION_FAILURE, INVOCATION_SUCCESS };

/** What the normalizer knows, captured in its code at deploy time (components/changeFeed.ts). */
export interface NormalizerSettings {
  /** Account id -> environment and owner, and the environment of unlisted accounts. */
  environments: EnvironmentMap;
  /** Left out on top of DEFAULT_NOISE. */
  extraNoise: { eventNames: string[]; principals: string[] };
  /** The webhook kinds configured: one body per kind. */
  kinds: WebhookKind[];
  /** FireHydrant environment ids by environment name, service ids by owner / account id / environment. */
  fireHydrant?: { environments: Record<string, string>; services: Record<string, string[]> };
}

export interface ChangePayload {
  schema: typeof CHANGE_SCHEMA;
  change: ChangeRecord;
  firehydrant?: ReturnType<typeof fireHydrantChangeEvent>;
  /** Without `routing_key`: the PagerDuty target's input transformer adds it (pagerDutyInputTransformer). */
  pagerduty?: Omit<ReturnType<typeof pagerDutyChangeEvent>, "routing_key">;
  generic?: ReturnType<typeof genericWebhook>;
}

/**
 * What the normalizer returns for one central-bus event (the CloudTrail record is its `detail`): null for anything
 * that is not a change, else the change record and one ready-to-send body per configured webhook kind.
 */
export function changePayload(detail: unknown, s: NormalizerSettings): ChangePayload | null {
  // The bus event's detail, as delivered: through the boundary first (fields of the wrong type are absent after it).
  const record: CloudTrailRecord = cloudTrailRecordOf(detail) ?? {};
  if (!isChange(record, DEFAULT_NOISE, s.extraNoise)) return null;
  const change = toChangeRecord(record, s.environments);
  const out: ChangePayload = { schema: CHANGE_SCHEMA, change };
  if (s.kinds.includes("firehydrant")) out.firehydrant = fireHydrantChangeEvent(change, fireHydrantIds(change, s.fireHydrant));
  if (s.kinds.includes("pagerduty")) {
    const { routing_key: _fromConnection, ...body } = pagerDutyChangeEvent(change, "");
    out.pagerduty = body;
  }
  if (s.kinds.includes("generic")) out.generic = genericWebhook(change);
  return out;
}

/** The FireHydrant environment and service ids of a change: services by owner, then account id, then environment. */
export function fireHydrantIds(change: ChangeRecord, m?: NormalizerSettings["fireHydrant"]): { environmentIds?: Record<string, string>; serviceIds?: string[] } {
  if (!m) return {};
  const own = (o: Record<string, string[]>, k: string | null) => (k !== null && Object.prototype.hasOwnProperty.call(o, k) ? o[k] : []);
  const serviceIds = [...new Set([...own(m.services, change.where.owner), ...own(m.services, change.where.account), ...own(m.services, change.where.environment)])];
  return { environmentIds: m.environments, serviceIds };
}
