/** zod building blocks shared by the stack config schemas (config.ts, changeFeedConfig.ts): one definition each. */
import { z } from "zod";

export const accountId = z.string().regex(/^\d{12}$/, "a 12-digit AWS account id (quote it in YAML)");

export const secretRef = z
  .string()
  .regex(/^(arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:\d{12}:secret:[\w\/+=.@-]+|[\w\/+=.@-]{1,512})$/, "a Secrets Manager secret name or ARN");

/** A list whose entries must be unique: duplicates are named. */
export function uniqueList<T extends z.ZodType<string>>(item: T, what: string) {
  return z.array(item).superRefine((list, ctx) => {
    const seen = new Set<string>();
    list.forEach((v, i) => {
      if (seen.has(v)) ctx.addIssue({ code: "custom", path: [i], message: `unique ${what}s, found "${v}" twice`, input: v });
      seen.add(v);
    });
  });
}
