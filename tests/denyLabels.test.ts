/**
 * The labeled corpus: `npm run replay -- --json` on the shipped samples, scored against
 * samples/cloudtrail/deny-labels.tsv, one expected finding per deny (cause, explicit, action, resource, suggestion
 * or not, sensitive or not). The score must be 100%: a deny without a label, a label without a deny, or any field
 * that differs fails, and the failure lists every miss.
 */
import { expect } from "chai";
import * as fs from "fs";
import * as path from "path";
import { replay, parseReplayArgs, SAMPLES } from "../cli/replay";

interface Label {
  where: string;
  eventId: string;
  action: string;
  resource: string;
  cause: string;
  explicit: string;
  suggestion: string;
  sensitive: string;
}

const FIELDS = ["eventId", "action", "resource", "cause", "explicit", "suggestion", "sensitive"] as const;

function labels(): Label[] {
  return fs
    .readFileSync(path.join(SAMPLES, "deny-labels.tsv"), "utf8")
    .split("\n")
    .filter((l) => l.trim() && !l.startsWith("#"))
    .map((l) => {
      const [where, eventId, action, resource, cause, explicit, suggestion, sensitive] = l.split("\t");
      return { where, eventId, action, resource, cause, explicit, suggestion, sensitive };
    });
}

/** A deny line as the label file writes it. */
function asLabel(d: any): Omit<Label, "where"> {
  return {
    eventId: d.eventId ?? "-",
    action: d.action ?? `unmapped ${d.unmappedAction}`,
    resource: d.resource,
    cause: d.cause,
    explicit: String(d.explicit),
    suggestion: d.suggestion ? "yes" : "no",
    sensitive: d.sensitive ? "yes" : "no",
  };
}

describe("labeled deny corpus: replay on samples/cloudtrail scores 100% against deny-labels.tsv", function () {
  this.timeout(120_000);
  let denies: any[];
  before(async () => {
    let out = "";
    const code = await replay(parseReplayArgs(["--json"]), (s) => (out += s), () => undefined);
    expect(code).to.equal(0);
    denies = out.trim().split("\n").map((l) => JSON.parse(l)).filter((l) => l.kind === "deny");
  });

  it("labels every deny, and every field of every deny matches", () => {
    const expected = labels();
    const misses: string[] = [];
    let right = 0;
    for (let i = 0; i < Math.max(expected.length, denies.length); i++) {
      const want = expected[i];
      const got = denies[i] ? asLabel(denies[i]) : undefined;
      if (!want || !got) {
        misses.push(`#${i + 1}: ${want ? `label ${want.where} has no deny` : `deny ${got!.eventId} has no label`}`);
        continue;
      }
      const wrong = FIELDS.filter((k) => want[k] !== got[k]);
      if (wrong.length === 0) right++;
      else misses.push(`${want.where}: ${wrong.map((k) => `${k} expected ${want[k]}, got ${got[k]}`).join("; ")}`);
    }
    const score = (100 * right) / expected.length;
    expect(misses, `score ${score.toFixed(1)}% (${right}/${expected.length})\n${misses.join("\n")}`).to.deep.equal([]);
    expect(expected.length).to.be.greaterThan(90);
  });

  it("covers the forms that matter: EC2's encoded form, SQS's URL form, unknown services, a boundary deny, sensitive actions", () => {
    const all = labels();
    const at = (where: string) => all.find((l) => l.where === where)!;
    expect(at("constructed/deny-forms.json[0]")).to.deep.include({ action: "ec2:StopInstances", cause: "unknown", explicit: "null", suggestion: "yes" });
    expect(at("constructed/deny-forms.json[4]").resource).to.match(/^arn:aws:sqs:/);
    expect(all.filter((l) => l.action.startsWith("unmapped ")).map((l) => l.action.split(" ")[1].split(":")[0])).to.have.members(["billingconsole", "macie"]);
    expect(at("constructed/deny-forms.json[7]")).to.deep.include({ cause: "permissions-boundary", suggestion: "no", sensitive: "yes" });
    expect(all.filter((l) => l.sensitive === "yes").length).to.be.greaterThan(10);
  });
});
