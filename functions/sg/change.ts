/**
 * Security-group rule changes from CloudTrail: which rules were added (by rule id), from where, and how risky.
 *
 * - The new rules and their ids are in `responseElements.securityGroupRuleSet.items[]` (`securityGroupRuleId`);
 *   the response's success flag is `_return`, not `return`.
 * - Requests come as `ipPermissions.items[]` or the flat legacy form (`cidrIp`, `ipProtocol`, `fromPort`, `toPort`);
 *   ports may be strings; protocol `-1` means all.
 * - `ModifySecurityGroupRules` names rules by id and does not say the direction.
 * https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_AuthorizeSecurityGroupIngress.html
 * https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_SecurityGroupRule.html
 */
import { BlockList, isIPv4, isIPv6 } from "net";
import { accountOf, principalArnOf, type CloudTrailRecord } from "../cloudtrail";
import { personOf } from "../deny/person";

export type Direction = "ingress" | "egress";

export interface SgRule {
  ruleId: string | null;
  /** "tcp", "udp", "icmp", "icmpv6", "all" (API's -1) or a protocol number. */
  protocol: string;
  /** null: all ports (protocol all, or -1 in the API). */
  fromPort: number | null;
  toPort: number | null;
  /** A CIDR, a security group id, or a prefix list id. */
  source: string;
  openToWorld: boolean;
  /** Per rule: the response says; a Modify event has no direction for the event as a whole. */
  direction: Direction | null;
  description: string | null;
}

export interface SgChange {
  eventId: string | null;
  eventTime: string | null;
  eventName: string;
  accountId: string | null;
  region: string | null;
  principalArn: string | null;
  groupId: string | null;
  direction: Direction | null;
  rules: SgRule[];
  /** Who, inside the principal: role session name, source identity or Identity Center user (functions/deny/person.ts). */
  sessionName?: string | null;
}

export type RiskLevel = "critical" | "high" | "medium" | "low";

export interface SgRisk {
  level: RiskLevel;
  reasons: string[];
}

const SG_EVENTS: Record<string, Direction | null> = {
  AuthorizeSecurityGroupIngress: "ingress",
  AuthorizeSecurityGroupEgress: "egress",
  ModifySecurityGroupRules: null,
};

/** Remote administration, databases and caches: never meant for the internet. */
export const SENSITIVE_PORTS: Record<number, string> = {
  22: "SSH",
  23: "Telnet",
  445: "SMB",
  1433: "SQL Server",
  1521: "Oracle",
  2375: "Docker API",
  2379: "etcd",
  3306: "MySQL",
  3389: "RDP",
  5432: "PostgreSQL",
  5900: "VNC",
  6379: "Redis",
  9200: "Elasticsearch",
  11211: "Memcached",
  27017: "MongoDB",
};

/**
 * The objects of an EC2 list (`{items: [...]}`, a bare array, or one object): entries that are not objects (null, a
 * string) are no entries. Fields inside are read with `text` / `port` / `protocolOf`, never trusted to have a type.
 */
const items = (v: any): any[] => {
  const list = Array.isArray(v) ? v : Array.isArray(v?.items) ? v.items : v && typeof v === "object" && Object.keys(v).length ? [v] : [];
  return list.filter((x: unknown) => typeof x === "object" && x !== null && !Array.isArray(x));
};
/** A non-empty string, else undefined (so `??` moves on to the next candidate). */
const text = (v: unknown): string | undefined => (typeof v === "string" && v !== "" ? v : undefined);
const objectOf = (v: unknown): Record<string, any> => (typeof v === "object" && v !== null && !Array.isArray(v) ? (v as Record<string, any>) : {});

function port(v: unknown): number | null {
  if (typeof v !== "number" && (typeof v !== "string" || v === "")) return null;
  const n = Number(v);
  return Number.isInteger(n) && n >= 0 ? n : null; // -1 (all / any ICMP) -> null
}

function protocolOf(v: unknown): string {
  const p = (typeof v === "string" || typeof v === "number" ? String(v) : "-1").toLowerCase();
  return p === "-1" || p === "all" ? "all" : p === "6" ? "tcp" : p === "17" ? "udp" : p === "1" ? "icmp" : p;
}

/** A CIDR is open to the world when its prefix length is 0, whatever address it is written with (`1.2.3.4/0`). */
export function isWorldCidr(cidr: string | null | undefined): boolean {
  return !!cidr && /\/0$/.test(cidr.trim());
}

function rule(r: {
  ruleId?: unknown;
  protocol: unknown;
  from: unknown;
  to: unknown;
  source: string;
  direction: Direction | null;
  description?: unknown;
}): SgRule {
  const protocol = protocolOf(r.protocol);
  const all = protocol === "all";
  return {
    ruleId: typeof r.ruleId === "string" ? r.ruleId : null,
    protocol,
    fromPort: all ? null : port(r.from),
    toPort: all ? null : port(r.to),
    source: r.source,
    openToWorld: isWorldCidr(r.source),
    direction: r.direction,
    description: typeof r.description === "string" ? r.description : null,
  };
}

/** Rules as the response lists them: one per rule id, exactly what was created. */
function rulesFromResponse(resp: any): SgRule[] {
  return items(resp?.securityGroupRuleSet).map((i: any) =>
    rule({
      ruleId: i.securityGroupRuleId,
      protocol: i.ipProtocol,
      from: i.fromPort,
      to: i.toPort,
      source: text(i.cidrIpv4) ?? text(i.cidrIpv6) ?? text(i.prefixListId) ?? text(objectOf(i.referencedGroupInfo).groupId) ?? "unknown",
      direction: i.isEgress === true ? "egress" : i.isEgress === false ? "ingress" : null,
      description: i.description,
    }),
  );
}

/** Rules from the request (older events have no rule set in the response): one per source, no ids. */
function rulesFromRequest(req: any, direction: Direction | null): SgRule[] {
  const out: SgRule[] = [];
  const perms = items(req?.ipPermissions).filter((p: any) => p && (p.ipProtocol !== undefined || p.ipRanges || p.groups));
  for (const p of perms) {
    const base = { protocol: p.ipProtocol, from: p.fromPort, to: p.toPort, direction };
    for (const r of items(p.ipRanges)) if (text(r.cidrIp)) out.push(rule({ ...base, source: r.cidrIp, description: r.description }));
    for (const r of items(p.ipv6Ranges)) if (text(r.cidrIpv6)) out.push(rule({ ...base, source: r.cidrIpv6, description: r.description }));
    for (const r of items(p.groups)) {
      const source = text(r.groupId) ?? text(r.groupName);
      if (source) out.push(rule({ ...base, source, description: r.description }));
    }
    for (const r of items(p.prefixListIds)) if (text(r.prefixListId)) out.push(rule({ ...base, source: r.prefixListId, description: r.description }));
  }
  // Legacy flat form: cidrIp / sourceSecurityGroupName with protocol and ports at the top level.
  const flat = text(req?.cidrIp) ?? text(req?.sourceSecurityGroupName);
  if (flat) out.push(rule({ protocol: req.ipProtocol, from: req.fromPort, to: req.toPort, source: flat, direction }));
  return out;
}

/** ModifySecurityGroupRules: `ModifySecurityGroupRulesRequest.SecurityGroupRule[]` with ids and new bodies. */
function rulesFromModify(req: any): { groupId: string | null; rules: SgRule[] } {
  const body = objectOf(req?.ModifySecurityGroupRulesRequest ?? req);
  const list = items(body.SecurityGroupRule ?? body.securityGroupRules);
  const rules = list.map((e: any) => {
    const r = objectOf(e.SecurityGroupRule ?? e.securityGroupRule);
    return rule({
      ruleId: e.SecurityGroupRuleId ?? e.securityGroupRuleId,
      protocol: r.IpProtocol ?? r.ipProtocol,
      from: r.FromPort ?? r.fromPort,
      to: r.ToPort ?? r.toPort,
      source: text(r.CidrIpv4) ?? text(r.CidrIpv6) ?? text(r.PrefixListId) ?? text(r.ReferencedGroupId) ?? text(r.cidrIpv4) ?? text(r.cidrIpv6) ?? "unknown",
      direction: null,
      description: r.Description ?? r.description,
    });
  });
  return { groupId: text(body.GroupId) ?? text(body.groupId) ?? null, rules };
}

/** The change a successful security-group rule event made, else null (failed calls are not changes). */
export function parseSecurityGroupChange(record: CloudTrailRecord): SgChange | null {
  const name = typeof record.eventName === "string" ? record.eventName : "";
  // Own keys only: an eventName such as "constructor" is no security-group event.
  if (!Object.prototype.hasOwnProperty.call(SG_EVENTS, name) || record.errorCode || record.eventSource !== "ec2.amazonaws.com") return null;
  const resp = objectOf(record.responseElements);
  if (resp._return === false) return null;
  const req = objectOf(record.requestParameters);
  const direction = SG_EVENTS[name];
  let groupId: string | null = text(req.groupId) ?? null;
  let rules: SgRule[];
  if (name === "ModifySecurityGroupRules") ({ groupId, rules } = rulesFromModify(req));
  else {
    rules = rulesFromResponse(resp);
    if (rules.length === 0) rules = rulesFromRequest(req, direction);
    groupId ??= text(items(resp.securityGroupRuleSet)[0]?.groupId) ?? null;
  }
  return {
    eventId: record.eventID ?? null,
    eventTime: record.eventTime ?? null,
    eventName: name,
    accountId: accountOf(record),
    region: record.awsRegion ?? null,
    principalArn: principalArnOf(record),
    groupId,
    direction,
    rules,
    sessionName: personOf(record),
  };
}

function trustedList(cidrs: string[]): BlockList {
  const list = new BlockList();
  for (const c of cidrs) {
    const [net, len] = c.split("/");
    if (isIPv4(net)) list.addSubnet(net, Number(len), "ipv4");
    else if (isIPv6(net)) list.addSubnet(net, Number(len), "ipv6");
  }
  return list;
}

/** The CIDR lies inside one of the trusted CIDRs (its network address is in it and it is no wider). */
function isTrusted(cidr: string, trusted: { list: BlockList; prefixes: { net: string; len: number }[] }): boolean {
  const [net, lenText] = cidr.split("/");
  const len = Number(lenText ?? (isIPv6(net) ? 128 : 32));
  const type = isIPv4(net) ? "ipv4" : isIPv6(net) ? "ipv6" : null;
  if (!type || !trusted.list.check(net, type)) return false;
  return trusted.prefixes.some((t) => (isIPv4(t.net) ? type === "ipv4" : type === "ipv6") && len >= t.len);
}

function covers(r: SgRule, p: number): boolean {
  if (r.protocol === "all") return true;
  if (r.protocol !== "tcp" && r.protocol !== "udp") return false;
  return r.fromPort !== null && r.toPort !== null && r.fromPort <= p && p <= r.toPort;
}

export function describePorts(r: SgRule): string {
  if (r.protocol === "all") return "all traffic";
  if (r.fromPort === null) return `${r.protocol} (all ports)`;
  return r.fromPort === r.toPort ? `${r.protocol}/${r.fromPort}` : `${r.protocol}/${r.fromPort}-${r.toPort}`;
}

const ORDER: RiskLevel[] = ["low", "medium", "high", "critical"];
const max = (a: RiskLevel, b: RiskLevel): RiskLevel => (ORDER.indexOf(a) >= ORDER.indexOf(b) ? a : b);

/**
 * Risk of a change: ingress open to the world weighs far above egress. Critical: world ingress to a sensitive port
 * or to all traffic; high: world ingress elsewhere, or from a public /8 or wider; medium: other public ingress; low:
 * egress (world egress on all traffic is every default group's rule: noted, not raised), trusted CIDRs,
 * security-group references, prefix lists, private ranges.
 */
export function assessRisk(change: SgChange, opts: { trustedCidrs?: string[] } = {}): SgRisk {
  const trustedCidrs = opts.trustedCidrs ?? [];
  const trusted = { list: trustedList(trustedCidrs), prefixes: trustedCidrs.map((c) => ({ net: c.split("/")[0], len: Number(c.split("/")[1]) })) };
  let level: RiskLevel = "low";
  const reasons: string[] = [];
  for (const r of change.rules) {
    const direction = r.direction ?? change.direction;
    const isCidr = r.source.includes("/");
    if (!isCidr) continue; // security group or prefix list: scoped by the team
    if (!r.openToWorld && isTrusted(r.source, trusted)) continue;
    if (direction === "egress") {
      if (r.openToWorld && r.protocol === "all") {
        level = max(level, "low");
        reasons.push(`egress to the world on all traffic (${r.source})`);
      }
      continue;
    }
    const where = direction === null ? "traffic (direction not stated)" : "ingress";
    if (r.openToWorld) {
      const sensitive = Object.entries(SENSITIVE_PORTS).filter(([p]) => covers(r, Number(p)));
      if (r.protocol === "all") {
        level = max(level, "critical");
        reasons.push(`${where} from the whole internet on all traffic (${r.source})`);
      } else if (sensitive.length) {
        level = max(level, "critical");
        reasons.push(`${where} from the whole internet to ${sensitive.map(([p, n]) => `${n} (${p})`).slice(0, 4).join(", ")} via ${describePorts(r)}`);
      } else {
        level = max(level, "high");
        reasons.push(`${where} from the whole internet on ${describePorts(r)}`);
      }
      continue;
    }
    const len = Number(r.source.split("/")[1]);
    // RFC 1918, loopback, link-local, carrier-grade NAT, IPv6 ULA and link-local: not reachable from the internet.
    const privateRange = /^(10\.|192\.168\.|172\.(1[6-9]|2\d|3[01])\.|127\.|169\.254\.|100\.(6[4-9]|[7-9]\d|1[01]\d|12[0-7])\.|f[cd][0-9a-f]{2}:|fe80:)/i.test(r.source);
    if (!privateRange) {
      level = max(level, len <= 8 ? "high" : "medium");
      reasons.push(`${where} from public range ${r.source} on ${describePorts(r)}`);
    }
  }
  return { level, reasons };
}

/** The `sg-change` line of `npm run replay -- --json` (its fixed fields, plus who made it and why the risk). */
export function toSgChangeLine(change: SgChange, risk: SgRisk) {
  return {
    kind: "sg-change" as const,
    eventId: change.eventId,
    eventTime: change.eventTime,
    accountId: change.accountId,
    region: change.region,
    groupId: change.groupId,
    direction: change.direction,
    rules: change.rules.map((r) => ({ ruleId: r.ruleId, protocol: r.protocol, fromPort: r.fromPort, toPort: r.toPort, source: r.source, openToWorld: r.openToWorld })),
    openToWorld: change.rules.some((r) => r.openToWorld),
    risk: risk.level,
    // Extensions:
    eventName: change.eventName,
    principalArn: change.principalArn,
    riskReasons: risk.reasons,
    sessionName: change.sessionName ?? null,
  };
}
