/**
 * GuardDuty severity bands and the EventBridge patterns that route findings by them. GuardDuty's severity is a
 * number: Low 1.0-3.9, Medium 4.0-6.9, High 7.0-8.9, Critical 9.0-10.0
 * (https://docs.aws.amazon.com/guardduty/latest/ug/guardduty_findings-severity.html). Numeric matching with
 * half-open ranges leaves no gap between 3.9 and 4.0:
 * https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-create-pattern-operators.html#eb-filtering-numeric-matching
 */
import type { EventPattern } from "../eventPattern";

export type SeverityBand = "low" | "medium" | "high" | "critical";
export const SEVERITY_BANDS: readonly SeverityBand[] = ["low", "medium", "high", "critical"];

/** Lower bound (inclusive) of each band; the upper bound is the next band's lower bound. */
const LOWER: Record<SeverityBand, number> = { low: 1, medium: 4, high: 7, critical: 9 };

export function bandOf(severity: number): SeverityBand | null {
  if (!Number.isFinite(severity) || severity < LOWER.low) return null;
  if (severity >= LOWER.critical) return "critical";
  if (severity >= LOWER.high) return "high";
  if (severity >= LOWER.medium) return "medium";
  return "low";
}

export const GUARDDUTY_FINDING = { source: ["aws.guardduty"], "detail-type": ["GuardDuty Finding"] } as const;

/** The pattern for one band's findings. */
export function severityPattern(band: SeverityBand): EventPattern {
  const i = SEVERITY_BANDS.indexOf(band);
  const next = SEVERITY_BANDS[i + 1];
  const range = next ? [">=", LOWER[band], "<", LOWER[next]] : [">=", LOWER[band]];
  return { ...GUARDDUTY_FINDING, detail: { severity: [{ numeric: range }] } } as unknown as EventPattern;
}

/** Findings at or above a band (what goes to Slack). */
export function atLeastPattern(band: SeverityBand): EventPattern {
  return { ...GUARDDUTY_FINDING, detail: { severity: [{ numeric: [">=", LOWER[band]] }] } } as unknown as EventPattern;
}

/** AWS Config rule evaluations that turned NON_COMPLIANT (organization rules run in every member account). */
export const configNonCompliantPattern: EventPattern = {
  source: ["aws.config"],
  "detail-type": ["Config Rules Compliance Change"],
  detail: { messageType: ["ComplianceChangeNotification"], newEvaluationResult: { complianceType: ["NON_COMPLIANT"] } },
} as unknown as EventPattern;
