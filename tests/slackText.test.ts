/**
 * The Slack text layer (functions/slack/text.ts) and the builders on it, as pure functions: escaping, neutralised
 * characters, cuts at Block Kit's limits, and no module helper named like a JavaScript global (the closure serializer
 * leaves those out of the Lambda archive and the global runs instead: TOOLCHAIN.md).
 */
import { expect } from "chai";
import * as fc from "fast-check";
import * as fs from "fs";
import * as path from "path";
import { codeBlock, codeSpan, cutMrkdwn, fitMessage, link, linesWithin, mrkdwnText, plainText, principalShort, singleLine, slackDate, SLACK_LIMITS, userMention } from "../functions/slack/text";
import { ownerText, trustedMention } from "../functions/slack/mentions";
import { boundedKey, boundedText } from "../functions/boundedKey";
import { blockKitErrors, untrustedMarkup } from "./slackBlockKit";
import { ROOT } from "./planFixture";

const HOSTILE = ["<!channel>", "<!here>", "<https://evil.example|approve>", "<@U0ATTACKER>", "&lt;!channel&gt;", "a\u202Eexe.txt", "zero\u200Bwidth", "```", "`", "line\nbreak", "%20"];
const hostileString = fc.oneof(fc.string({ maxLength: 200 }), fc.constantFrom(...HOSTILE), fc.array(fc.constantFrom(...HOSTILE, "x", " ", "é", "😀"), { maxLength: 400 }).map((a) => a.join("")));

describe("Slack text layer", () => {
  it("escapes &, < and > and leaves no live markup, bidi or zero-width character, whatever the input", () => {
    fc.assert(
      fc.property(hostileString, fc.integer({ min: 5, max: 3000 }), (s, max) => {
        for (const out of [mrkdwnText(s, max), codeSpan(s, max), codeBlock(s, max), mrkdwnText(s, max, { multiline: true })]) {
          expect(out.length).to.be.at.most(max + 6);
          expect(out).to.not.match(/[<>]/);
          expect(out).to.not.match(/[\u202A-\u202E\u2066-\u2069\u200B-\u200F\uFEFF]/);
          expect(out).to.not.match(/&(?!amp;|lt;|gt;)/); // every & starts one of our entities
        }
        expect(mrkdwnText(s, max)).to.not.contain("\n");
        expect(plainText(s, 150).length).to.be.at.most(150);
      }),
      { numRuns: 300 },
    );
  });

  it("cuts at a character boundary with an ellipsis, never inside an entity or a surrogate pair", () => {
    expect(mrkdwnText("<".repeat(10), 12)).to.equal("&lt;&lt;…");
    expect(mrkdwnText("😀".repeat(10), 5)).to.equal("😀😀…");
    expect(mrkdwnText("abc", 3)).to.equal("abc");
    expect(cutMrkdwn("x".repeat(10) + "&amp;" + "y".repeat(10), 14)).to.equal("x".repeat(10) + "…");
    expect(cutMrkdwn("see <https://eu-west-1.console.aws.amazon.com/x|console> now", 30)).to.equal("see …");
  });

  it("keeps a code span a code span: backticks inside cannot close it", () => {
    expect(codeSpan("a`b")).to.equal("`a\u02CBb`");
    expect(codeBlock("x```y")).to.equal("```x\u02CB\u02CB\u02CBy```");
  });

  it("ends a list that does not fit with '… and N more', whole lines only", () => {
    const lines = Array.from({ length: 100 }, (_, i) => `line ${i} ${"x".repeat(50)}`);
    const { text, shown } = linesWithin(lines, 3000);
    expect(text.length).to.be.at.most(3000);
    expect(text.endsWith(`… and ${100 - shown} more`)).to.equal(true);
    expect(text.split("\n")).to.have.length(shown + 1);
  });

  it("mentions and links only from trusted input", () => {
    expect(userMention("U02ALICE001")).to.equal("<@U02ALICE001>");
    expect(userMention("trailwatch (auto-revert)")).to.equal("trailwatch (auto-revert)");
    expect(userMention("<!channel>")).to.equal("&lt;!channel&gt;");
    expect(link("https://eu-west-1.console.aws.amazon.com/ec2/home?a=1&b=2", "sg-1")).to.equal("<https://eu-west-1.console.aws.amazon.com/ec2/home?a=1&amp;b=2|sg-1>");
    expect(link("https://x.example/|evil", "sg-1")).to.equal("sg-1");
    expect(link("javascript:alert(1)", "<b>")).to.equal("&lt;b&gt;");
    expect(slackDate("2026-11-20T10:00:00Z")).to.equal("<!date^1795168800^{date_short_pretty} {time}|2026-11-20T10:00:00Z>");
    expect(slackDate("<!channel>")).to.equal("time unknown");
  });

  it("owner tags mention only allow-listed ids or emails Slack resolved", () => {
    expect(ownerText("U0ATTACKER1")).to.equal(" · owner U0ATTACKER1");
    expect(ownerText("U02ALICE001", { mentionable: ["U02ALICE001"] })).to.equal(" · owner <@U02ALICE001>");
    expect(ownerText("S0SECOPS001", { mentionable: ["S0SECOPS001"] })).to.equal(" · owner <!subteam^S0SECOPS001>");
    expect(ownerText("alice@example.com", { resolvedOwners: { "alice@example.com": "U02ALICE001" } })).to.equal(" · owner <@U02ALICE001>");
    expect(trustedMention("<!channel>", { mentionable: ["<!channel>"] })).to.equal(null);
    expect(ownerText("<!channel>")).to.equal(" · owner &lt;!channel&gt;");
  });

  it("fitMessage brings any message within Block Kit's limits (the stub's checks agree)", () => {
    const long = "y".repeat(5000);
    const m = fitMessage({
      text: long,
      blocks: [
        { type: "header", text: { type: "plain_text", text: long } },
        { type: "section", text: { type: "mrkdwn", text: long }, fields: Array.from({ length: 14 }, () => ({ type: "mrkdwn", text: long })) },
        { type: "context", elements: Array.from({ length: 12 }, () => ({ type: "mrkdwn", text: long })) },
        ...Array.from({ length: 60 }, () => ({ type: "divider" })),
        { type: "actions", elements: [{ type: "button", text: { type: "plain_text", text: long }, value: "v", confirm: { title: { type: "plain_text", text: long }, text: { type: "mrkdwn", text: long }, confirm: { type: "plain_text", text: long }, deny: { type: "plain_text", text: long } } }] },
      ],
    });
    expect(blockKitErrors(m.blocks)).to.deep.equal([]);
    expect(m.blocks).to.have.length(SLACK_LIMITS.blocks);
    expect((m.blocks.at(-1) as any).type).to.equal("actions");
    expect((m.blocks.at(-2) as any).elements[0].text).to.match(/^… and \d+ more not shown$/);
    expect(m.text.length).to.be.at.most(SLACK_LIMITS.messageText);
    expect(blockKitErrors([{ type: "section", text: { type: "mrkdwn", text: long } }])).to.deep.equal(["must be less than 3001 characters [json-pointer:/blocks/0/text/text]"]);
    // A button whose value would be cut is left out, never sent acting on a cut value.
    const noButton = fitMessage({ text: "t", blocks: [{ type: "actions", elements: [{ type: "button", text: { type: "plain_text", text: "Detach" }, value: "v".repeat(2001) }] }] });
    expect(noButton.blocks).to.deep.equal([]);
  });

  it("shortens long principals, keeping the start and the name", () => {
    const arn = `arn:aws:iam::111122223333:role/${"deep/".repeat(100)}deployer`;
    const s = principalShort(arn, 120);
    expect(s.length).to.be.at.most(122);
    expect(s).to.match(/^role\/deep\/.*\/…\/deployer$/);
    expect(singleLine("a\n\tb")).to.equal("a b");
  });

  it("recognises hostile markup the way the stub checks it", () => {
    expect(untrustedMarkup({ text: "<!channel> <https://evil.example|approve> <@U0X> <!date^1^{time}|2026-01-01T00:00:00Z>" }, [])).to.have.length(3);
  });
});

describe("store keys within DynamoDB's limits", () => {
  it("keeps short keys as they are and bounds long ones stably, by bytes", () => {
    expect(boundedKey("abc")).to.equal("abc");
    const long = "é".repeat(3000);
    const k = boundedKey(long);
    expect(Buffer.byteLength(k, "utf8")).to.be.at.most(1024);
    expect(k).to.equal(boundedKey(long));
    expect(k).to.not.equal(boundedKey(long + "x"));
    expect(boundedText("x".repeat(100), 50)).to.have.length(50).and.match(/more characters\]$/);
  });
});

describe("no helper named like a JavaScript global (the archive would call the global)", () => {
  it("functions/ declares no function or module constant with a global's name", () => {
    const globals = new Set(Object.getOwnPropertyNames(globalThis));
    const bad: string[] = [];
    const walk = (dir: string) => {
      for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
        const p = path.join(dir, e.name);
        if (e.isDirectory()) walk(p);
        else if (p.endsWith(".ts"))
          for (const m of fs.readFileSync(p, "utf8").matchAll(/^(?:export\s+)?(?:async\s+)?(?:function\s+([A-Za-z_$][\w$]*)|const\s+([A-Za-z_$][\w$]*)\s*=)/gm)) {
            const n = m[1] ?? m[2];
            if (globals.has(n)) bad.push(`${path.relative(ROOT, p)}: ${n}`);
          }
      }
    };
    walk(path.join(ROOT, "functions"));
    expect(bad).to.deep.equal([]);
  });
});
