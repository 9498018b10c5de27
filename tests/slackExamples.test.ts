/**
 * docs/slack-messages.md is generated from the message builders: this fails when they disagree (rewrite it with
 * `UPDATE_SLACK_DOCS=1 npx mocha tests/slackExamples.test.ts`), and every example is within Block Kit's limits.
 */
import { expect } from "chai";
import * as fs from "fs";
import * as path from "path";
import { renderSlackExamples } from "./slackExamples";
import { ROOT } from "./planFixture";
import { blockKitErrors, untrustedMarkup } from "./slackBlockKit";

describe("docs/slack-messages.md", () => {
  const file = path.join(ROOT, "docs", "slack-messages.md");
  it("is what the builders render today", () => {
    const rendered = renderSlackExamples();
    if (process.env.UPDATE_SLACK_DOCS) {
      fs.mkdirSync(path.dirname(file), { recursive: true });
      fs.writeFileSync(file, rendered);
    }
    expect(fs.readFileSync(file, "utf8")).to.equal(rendered);
  });
  it("shows only messages Slack accepts, with no markup from event fields", () => {
    const json = [...renderSlackExamples().matchAll(/```json\n([\s\S]*?)\n```/g)].map((m) => JSON.parse(m[1]));
    expect(json).to.have.length(9);
    for (const m of json) {
      expect(blockKitErrors(m.blocks)).to.deep.equal([]);
      expect(untrustedMarkup(m, ["U02ALICE001"])).to.deep.equal([]);
    }
  });
});
