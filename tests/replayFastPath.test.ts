/**
 * Replay's fast paths change speed, never results: the cheap pre-check never drops a record that routing
 * would report, and the trailer-sized gunzip returns and fails exactly as zlib's own.
 */
import { expect } from "chai";
import * as zlib from "zlib";
import { mayProduceFindings, routeRecord } from "../functions/router";
import { gunzip } from "../cli/readLogs";
import { allRecords } from "./sharedData";

describe("replay fast paths", () => {
  it("mayProduceFindings is false only for records routeRecord finds nothing in (all 776 shared real records)", async () => {
    const records = allRecords();
    expect(records.length).to.be.greaterThan(700);
    let skipped = 0;
    let withFindings = 0;
    for (const { record, origin } of records) {
      const findings = await routeRecord(record, { trustedCidrs: [] });
      if (findings.length > 0) withFindings++;
      if (!mayProduceFindings(record)) {
        skipped++;
        expect(findings, `${origin}: skipped by the pre-check but routing finds ${findings.map((f) => f.kind).join(", ")}`).to.deep.equal([]);
      }
    }
    // The check is worth having (most records are skipped) and the data exercises both sides.
    expect(withFindings).to.be.greaterThan(50);
    expect(skipped).to.be.greaterThan(records.length / 2);
  });

  it("lets malformed records through to routing, which reports them", () => {
    expect(mayProduceFindings({ eventSource: 42 } as never)).to.equal(true);
    expect(mayProduceFindings(null as never)).to.equal(true);
  });

  it("gunzip equals zlib.gunzipSync on one member, several members, and an empty body", () => {
    const a = Buffer.from(JSON.stringify({ Records: [{ eventName: "A" }] }));
    const b = Buffer.from("x".repeat(100_000));
    for (const raw of [zlib.gzipSync(a), Buffer.concat([zlib.gzipSync(a), zlib.gzipSync(b)]), zlib.gzipSync(Buffer.alloc(0))]) {
      expect(gunzip(raw).equals(zlib.gunzipSync(raw))).to.equal(true);
    }
  });

  it("gunzip ignores a trailer that lies about the size and fails like zlib on a truncated file", () => {
    const raw = zlib.gzipSync(Buffer.from("y".repeat(50_000)));
    const lying = Buffer.from(raw);
    lying.writeUInt32LE(0xffffffff, lying.length - 4); // claims 4 GiB
    const outcome = (f: () => Buffer) => {
      try {
        return `ok ${f().length}`;
      } catch (e) {
        return `error ${(e as NodeJS.ErrnoException).code}`;
      }
    };
    expect(outcome(() => gunzip(lying))).to.equal(outcome(() => zlib.gunzipSync(lying)));
    const truncated = raw.subarray(0, raw.length - 10);
    expect(outcome(() => gunzip(truncated))).to.equal(outcome(() => zlib.gunzipSync(truncated)));
    expect(outcome(() => gunzip(truncated))).to.match(/^error Z_BUF_ERROR/);
  });
});
