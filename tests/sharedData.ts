/**
 * Loaders for the reference data the tests read. Everything lives in the checkout, so a plain clone passes:
 * the real CloudTrail records are the shipped samples (`samples/cloudtrail/`, origins and licenses in its
 * README), AWS documentation pages are under `tests/fixtures/` with their license. `TRAILWATCH_SHARED_DATA`
 * may point the record loaders at another copy laid out the same way.
 */
import * as fs from "fs";
import * as path from "path";
import type { CloudTrailRecord } from "../functions/cloudtrail";

export const SHARED_DATA = process.env.TRAILWATCH_SHARED_DATA ?? path.resolve(__dirname, "../samples/cloudtrail");
/** Documentation pages and other non-record reference files (origin and license beside each). */
export const FIXTURES = path.resolve(__dirname, "fixtures");

export interface SourcedRecord {
  /** file (and test name for Panther) the record comes from, for assertion messages */
  origin: string;
  record: CloudTrailRecord;
}

/** A reference file under tests/fixtures/, or an error naming it. */
export function fixtureFile(relative: string): string {
  return must(path.join(FIXTURES, relative));
}

function must(p: string): string {
  if (!fs.existsSync(p)) throw new Error(`reference data missing: ${p} (set TRAILWATCH_SHARED_DATA)`);
  return p;
}

/** The 310 real Stratus Red Team detonation records (shared/README.md says 335; the files hold 310). */
export function stratusRecords(): SourcedRecord[] {
  const dir = must(path.join(SHARED_DATA, "stratus-red-team/detonation-logs"));
  const out: SourcedRecord[] = [];
  for (const f of fs.readdirSync(dir).filter((n) => n.endsWith(".json")).sort()) {
    const records = JSON.parse(fs.readFileSync(path.join(dir, f), "utf8")) as CloudTrailRecord[];
    records.forEach((record, i) => out.push({ origin: `stratus/${f}[${i}]`, record }));
  }
  return out;
}

/** The 466 Panther rule-test records (many hand-edited upstream: robustness, not ground truth). */
export function pantherRecords(): SourcedRecord[] {
  const file = must(path.join(SHARED_DATA, "panther-analysis/panther_cloudtrail_test_events.jsonl"));
  return fs
    .readFileSync(file, "utf8")
    .split("\n")
    .filter((l) => l.trim())
    .map((line, i) => {
      const row = JSON.parse(line);
      return { origin: `panther:${i + 1} ${row._source_file} "${row._test_name}"`, record: row.event as CloudTrailRecord };
    });
}

/** The constructed deny forms in samples/cloudtrail/constructed (origin in its README: built from a real Stratus record). */
export function constructedRecords(): SourcedRecord[] {
  const file = path.resolve(__dirname, "../samples/cloudtrail/constructed/deny-forms.json");
  return (JSON.parse(fs.readFileSync(must(file), "utf8")) as CloudTrailRecord[]).map((record, i) => ({ origin: `constructed[${i}]`, record }));
}

export function allRecords(): SourcedRecord[] {
  return [...stratusRecords(), ...pantherRecords()];
}
