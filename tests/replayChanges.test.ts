/**
 * `npm run replay -- --changes`: what the change feed would have sent, from past logs, run as users run the script.
 * Without the flag the output must not change by a byte.
 */
import { expect } from "chai";
import { spawnSync } from "child_process";
import * as path from "path";
import { ROOT } from "./planFixture";
import { SHARED_DATA, allRecords } from "./sharedData";
import { isChange, summarize, toChangeRecord } from "../functions/changeFeed";

function replayCli(args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [require.resolve("ts-node/dist/bin.js"), "--transpile-only", "cli/replay.ts", ...args], {
    cwd: ROOT,
    encoding: "utf8",
    maxBuffer: 64 * 1024 * 1024,
    timeout: 120_000,
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe("npm run replay -- --changes", function () {
  this.timeout(300_000);
  const data = [path.join(SHARED_DATA, "stratus-red-team"), path.join(SHARED_DATA, "panther-analysis")];
  // What the feed would send: every record isChange keeps, as replay sees it (no account map: environment "unknown").
  const expected = allRecords()
    .filter((r) => isChange(r.record))
    .map((r) => toChangeRecord(r.record, { accounts: {} }));

  it("prints one change line per change record (--json), the summary counts them, the rest is unchanged", () => {
    const plain = replayCli([...data, "--json"]);
    const withChanges = replayCli([...data, "--json", "--changes"]);
    expect(plain.status).to.equal(0);
    expect(withChanges.status).to.equal(0);
    const lines = withChanges.stdout.trim().split("\n").map((l) => JSON.parse(l));
    const changes = lines.filter((l) => l.kind === "change");
    expect(changes).to.have.length(expected.length).and.to.have.length.greaterThan(100);
    expect(changes.map((c) => JSON.stringify(c)).sort()).to.deep.equal(expected.map((c) => JSON.stringify(c)).sort());
    for (const c of changes) {
      expect(Object.keys(c)).to.deep.equal(["kind", "time", "who", "what", "where", "result", "consoleLink", "eventId"]);
      expect(c.where.environment).to.equal("unknown");
    }
    const summary = lines[lines.length - 1];
    expect(summary).to.include({ kind: "summary", changes: expected.length });
    // Take the change lines and the new summary key away: byte for byte what replay printed before.
    const { changes: _count, ...before } = summary;
    const rest = lines.filter((l) => l.kind !== "change" && l.kind !== "summary").map((l) => JSON.stringify(l));
    expect([...rest, JSON.stringify(before)].join("\n") + "\n").to.equal(plain.stdout);
    expect(plain.stdout).not.to.contain('"kind":"change"');
  });

  it("prints a one-line summary per change in the human report, and the count at the end", () => {
    const file = path.join(SHARED_DATA, "stratus-red-team/detonation-logs/aws.defense-evasion.cloudtrail-stop.json");
    const plain = replayCli([file]);
    const r = replayCli([file, "--changes"]);
    expect(r.status).to.equal(0);
    const lines = r.stdout.split("\n").filter((l) => l.startsWith("change  "));
    const records = allRecords().filter((x) => x.origin.startsWith("stratus/aws.defense-evasion.cloudtrail-stop.json") && isChange(x.record));
    expect(records).to.have.length.greaterThan(0);
    expect(lines).to.deep.equal(records.map((x) => `change  ${summarize(toChangeRecord(x.record, { accounts: {} }))}`));
    expect(lines[0]).to.match(/^change  unknown 143434273843 \S+: .* cloudtrail StopLogging/);
    expect(r.stdout).to.match(new RegExp(`\nChange feed: ${records.length} changes\n$`));
    // The report itself is the same as without the flag.
    expect(r.stdout.split("\n").filter((l) => !l.startsWith("change  ") && !l.startsWith("Change feed: ")).join("\n")).to.equal(plain.stdout);
  });

  it("lists --changes in its usage", () => {
    const r = replayCli(["--help"]);
    expect(r.status).to.equal(2);
    expect(r.stderr).to.contain("[--changes]");
  });
});
