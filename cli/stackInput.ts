/**
 * The inputs preflight and verify read besides AWS: the stack config (the same loader and schema as `npm run plan`:
 * cli/mockRuntime.ts readStackConfig, stacks/config.ts parseStackConfig) and, for verify, the stack outputs
 * (`pulumi stack output --json > outputs.json`, passed with `--outputs`), for the names Pulumi generated.
 */
import * as fs from "fs";
import * as path from "path";
import { parseStackConfig, type StackConfig } from "../stacks/config";
import { StartError } from "./checklist";

/** The config is invalid: every problem, exit 1 (as `npm run plan`). */
export class ConfigProblems extends Error {
  constructor(readonly problems: string[], file: string) {
    super(`${file}: invalid stack config (${problems.length} problem${problems.length === 1 ? "" : "s"}):\n  - ${problems.join("\n  - ")}`);
    this.name = "ConfigProblems";
  }
}

export const PROJECT_DIR = path.resolve(__dirname, "..");

export async function loadStack(stack: string, configFile?: string): Promise<{ config: StackConfig; file: string }> {
  const file = path.resolve(configFile ?? path.join(PROJECT_DIR, `Pulumi.${stack}.yaml`));
  // Imported here: the loader lives beside the mock runtime, which loads @pulumi/pulumi.
  const { readStackConfig } = await import("./mockRuntime");
  let raw;
  try {
    raw = readStackConfig(PROJECT_DIR, file);
  } catch (err) {
    throw new StartError((err as Error).message);
  }
  const parsed = parseStackConfig(raw.config);
  if (!parsed.ok) throw new ConfigProblems(parsed.problems, path.relative(process.cwd(), file) || file);
  return { config: parsed.config, file };
}

/** `pulumi stack output --json` as saved to a file; {} without the flag. */
export function loadOutputs(file?: string): Record<string, unknown> {
  if (!file) return {};
  let text: string;
  try {
    text = fs.readFileSync(file, "utf8");
  } catch {
    throw new StartError(`--outputs ${file}: no such file (save it with: pulumi stack output --json --stack <name> > ${file})`);
  }
  try {
    const v = JSON.parse(text);
    if (v === null || typeof v !== "object" || Array.isArray(v)) throw new Error("not a JSON object");
    return v as Record<string, unknown>;
  } catch (err) {
    throw new StartError(`--outputs ${file}: expected the JSON object pulumi stack output --json prints (${(err as Error).message})`);
  }
}
