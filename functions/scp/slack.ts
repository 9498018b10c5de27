/**
 * The SCP watch in Slack: `/trailwatch-watch p-abc123 30` starts a window by hand (anyone in the channel may watch);
 * the alert's "Detach policy" button is for approvers only and is recorded once (a conditional write); the detach
 * worker does the rest. https://api.slack.com/interactivity/slash-commands
 */
import type { Register } from "../slack/app";
import { isApprover, slackPort } from "../slack/port";
import { DETACH_ACTION } from "./watch";
import { openWindow, windowFor, type ScpWatchSettings } from "./handlers";
import type { WindowStore } from "./store";
import { envNoticeSender } from "../slack/outboxAdapters";

import { codeSpan, fitMessage, mrkdwnText, userMention } from "../slack/text";

export const WATCH_COMMAND = "/trailwatch-watch";

/** `p-abc123 30` -> policy id and minutes (default: the configured window), or an explanation. */
export function parseWatchCommand(text: string, defaultMinutes: number): { policyId: string; minutes: number } | { error: string } {
  const [policyId, minutes, ...rest] = text.trim().split(/\s+/).filter(Boolean);
  // Slash-command responses are mrkdwn: a bare `<…>` would be read as markup.
  const usage = `usage: ${WATCH_COMMAND} &lt;policy id, e.g. p-abc12345&gt; [minutes, 5-1440]`;
  if (!policyId || rest.length) return { error: usage };
  if (!/^p-[0-9a-z_]{8,128}$/.test(policyId)) return { error: `"${mrkdwnText(policyId, 140)}" is not a policy id. ${usage}` };
  const m = minutes === undefined ? defaultMinutes : Number(minutes);
  if (!Number.isInteger(m) || m < 5 || m > 1440) return { error: `"${mrkdwnText(minutes, 40)}" is not a number of minutes between 5 and 1440. ${usage}` };
  return { policyId, minutes: m };
}

export function registerScpWatch(deps: { store: WindowStore; settings: ScpWatchSettings; log?: (line: object) => void }): Register {
  return (app) => {
    app.command(WATCH_COMMAND, async ({ ack, command, client }) => {
      const parsed = parseWatchCommand(command.text ?? "", deps.settings.windowMinutes);
      if ("error" in parsed) {
        await ack({ response_type: "ephemeral", text: parsed.error });
        return;
      }
      await ack({ response_type: "ephemeral", text: `Watching ${parsed.policyId} for ${parsed.minutes} minutes.` });
      const w = windowFor(parsed.policyId, { change: "manual", who: command.user_id, targetId: null }, parsed.minutes, deps.settings.threshold, new Date());
      const posting = { outbox: envNoticeSender(), table: process.env.SCP_WATCH_TABLE! };
      await openWindow(w, { store: deps.store, posting, settings: deps.settings });
      deps.log?.({ level: "INFO", message: "window opened by hand", policyId: parsed.policyId, minutes: parsed.minutes, user: command.user_id });
    });

    app.action(DETACH_ACTION, async ({ ack, body, action, client }) => {
      await ack();
      const slack = slackPort(client);
      const b = body as { user: { id: string }; channel?: { id: string } };
      const channel = b.channel?.id ?? deps.settings.channel;
      if (!(await isApprover(b.user.id, deps.settings, slack))) {
        await slack.ephemeral(channel, b.user.id, `${userMention(b.user.id)}, only the security team's approvers can detach policies; nothing was changed.`);
        deps.log?.({ level: "WARN", message: "detach click by a non-approver ignored", user: b.user.id });
        return;
      }
      const { policyId, targetId } = JSON.parse((action as { value?: string }).value ?? "{}") as { policyId: string; targetId: string };
      const claimed = await deps.store.requestDetach(policyId, b.user.id, targetId, new Date().toISOString());
      deps.log?.({ level: "INFO", message: claimed ? "detach requested" : "detach already requested", policyId, targetId, user: b.user.id });
      const w = claimed ? await deps.store.get(policyId) : null;
      if (w?.alertTs && w.channel)
        await slack.update(
          w.channel,
          w.alertTs,
          fitMessage({
            text: `Detaching ${mrkdwnText(policyId, 140)} from ${mrkdwnText(targetId, 80)} (requested by ${userMention(b.user.id)})`,
            blocks: [{ type: "section", text: { type: "mrkdwn", text: `:hourglass: *Detaching ${codeSpan(policyId, 140)} from ${codeSpan(targetId, 80)}* (requested by ${userMention(b.user.id)})` } }],
          }),
        );
    });
  };
}
