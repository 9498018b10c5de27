/** zod building blocks shared by the stack config schemas (config.ts, changeFeedConfig.ts): one definition each. */
import { z } from "zod";

/**
 * The retention values CloudWatch Logs accepts; any other number fails at deploy time, so it fails here.
 * https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/API_PutRetentionPolicy.html
 */
export const LOG_RETENTION_DAYS = [1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653] as const;
export const logRetention = z.literal(LOG_RETENTION_DAYS);

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
