/**
 * The resource shape the deploy rules read: what `npm run plan` writes to resources.json and what CrossGuard hands a
 * stack policy (`PolicyResource`), reduced to the fields both have. Rules must tolerate values that are unknown in a
 * real preview (undefined: an output not computed yet) and only report what they can see.
 */
import type { PolicyResource } from "@pulumi/policy";

export interface PlanResource {
  type: string;
  name: string;
  urn: string;
  /** Inputs (plan) or props (CrossGuard). */
  props: Record<string, any>;
  /** URNs this resource waits for: explicit dependsOn and the resources its inputs come from. */
  dependsOn: string[];
}

export interface Violation {
  message: string;
  urn?: string;
}

/** resources.json rows (tests/planFixture.ts `Resource`) as rule input. */
export function fromPlan(rows: { type: string; name: string; urn: string; inputs: any; dependsOn: string[] }[]): PlanResource[] {
  return rows.map((r) => ({ type: r.type, name: r.name, urn: r.urn, props: r.inputs ?? {}, dependsOn: r.dependsOn ?? [] }));
}

/** CrossGuard's resources as rule input. */
export function fromPolicyResources(resources: PolicyResource[]): PlanResource[] {
  return resources.map((r) => ({
    type: r.type,
    name: r.name,
    urn: r.urn,
    props: r.props ?? {},
    dependsOn: [...new Set([...(r.dependencies ?? []).map((d) => d.urn), ...Object.values(r.propertyDependencies ?? {}).flat().map((d) => d.urn)])],
  }));
}

/** A JSON document input (policy, pattern, template) parsed; undefined when unknown or not JSON. */
export function doc(value: unknown): any {
  if (typeof value !== "string") return value ?? undefined;
  try {
    return JSON.parse(value);
  } catch {
    return undefined;
  }
}

/** Statements of a policy document, always an array. */
export function statements(policy: unknown): any[] {
  const d = doc(policy);
  if (!d) return [];
  return Array.isArray(d.Statement) ? d.Statement : d.Statement ? [d.Statement] : [];
}

export const list = <T>(v: T | T[] | undefined): T[] => (v === undefined ? [] : Array.isArray(v) ? v : [v]);

export class Index {
  readonly byUrn = new Map<string, PlanResource>();
  constructor(readonly resources: PlanResource[]) {
    for (const r of resources) this.byUrn.set(r.urn, r);
  }
  ofType(type: string): PlanResource[] {
    return this.resources.filter((r) => r.type === type);
  }
  /** The resources `r` waits for, of a type. */
  deps(r: PlanResource, type?: string): PlanResource[] {
    return r.dependsOn.map((u) => this.byUrn.get(u)).filter((d): d is PlanResource => !!d && (!type || d.type === type));
  }
  /** Everything `r` waits for, directly or through what it waits for. */
  closure(r: PlanResource): Set<string> {
    const seen = new Set<string>();
    const stack = [...r.dependsOn];
    while (stack.length) {
      const u = stack.pop()!;
      if (seen.has(u)) continue;
      seen.add(u);
      stack.push(...(this.byUrn.get(u)?.dependsOn ?? []));
    }
    return seen;
  }
  /** Resources that wait for `r`, of a type. */
  dependents(r: PlanResource, type?: string): PlanResource[] {
    return this.resources.filter((x) => x.dependsOn.includes(r.urn) && (!type || x.type === type));
  }
}
