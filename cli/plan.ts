/**
 * `npm run plan -- --stack <name> --out <dir> [--config <file>]`
 *
 * Runs the program for a stack on the Pulumi mock runtime with `Pulumi.<name>.yaml` and writes
 *   <dir>/resources.json            every resource: { type, name, parent, provider, inputs } (secrets as "[secret]")
 *   <dir>/functions/<name>/         each Lambda's code archive as Pulumi would upload it (require(...).handler runs it)
 * Exits 1 with every config problem when the config is bad, 2 on bad usage. A public interface: extend, never break.
 */
import * as fs from "fs";
import * as path from "path";
import { parseArgs } from "node:util";

const USAGE = "usage: npm run plan -- --stack <name> --out <dir> [--config <file>]";

interface PlanArgs {
  stack: string;
  out: string;
  config?: string;
}

export function parsePlanArgs(argv: string[]): PlanArgs {
  let values: { stack?: string; out?: string; config?: string; help?: boolean };
  try {
    ({ values } = parseArgs({
      args: argv,
      strict: true,
      allowPositionals: false,
      options: { stack: { type: "string" }, out: { type: "string" }, config: { type: "string" }, help: { type: "boolean", short: "h" } },
    }));
  } catch (err) {
    // parseArgs' own words, turned into the messages this tool has always printed.
    const { code, message } = err as { code?: string; message: string };
    const named = /'([^' ]+)/.exec(message)?.[1] ?? "";
    if (code === "ERR_PARSE_ARGS_INVALID_OPTION_VALUE") throw new Error(`${named} needs a value\n${USAGE}`);
    if (code === "ERR_PARSE_ARGS_UNKNOWN_OPTION" || code === "ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL") throw new Error(`unknown argument "${named}"\n${USAGE}`);
    throw new Error(`${message}\n${USAGE}`);
  }
  if (values.help) throw new Error(USAGE);
  if (!values.stack) throw new Error(`--stack is required\n${USAGE}`);
  if (!/^[\w.-]+$/.test(values.stack)) throw new Error(`--stack "${values.stack}" is not a stack name`);
  return { stack: values.stack, out: values.out ?? "plan", config: values.config };
}

async function main(): Promise<number> {
  let args: PlanArgs;
  try {
    args = parsePlanArgs(process.argv.slice(2));
  } catch (err) {
    process.stderr.write(`${(err as Error).message}\n`);
    return 2;
  }
  const projectDir = path.resolve(__dirname, "..");
  // Import the runtime after argument checks: loading @pulumi/* takes a few seconds.
  const { readStackConfig, runOnMocks, writeArchive, renderValue } = await import("./mockRuntime");
  const configFile = path.resolve(args.config ?? path.join(projectDir, `Pulumi.${args.stack}.yaml`));
  let stackConfig;
  try {
    stackConfig = readStackConfig(projectDir, configFile);
  } catch (err) {
    process.stderr.write(`plan: ${(err as Error).message}\n`);
    return 1;
  }
  const { runProgram } = await import("../stacks/program");
  const { ConfigError } = await import("../stacks/config");
  let result;
  try {
    result = await runOnMocks({ ...stackConfig, stack: args.stack }, runProgram);
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`plan: ${path.relative(process.cwd(), configFile)}: ${err.message}\n`);
      return 1;
    }
    throw err;
  }

  const out = path.resolve(args.out);
  fs.rmSync(path.join(out, "functions"), { recursive: true, force: true });
  fs.mkdirSync(out, { recursive: true });
  const resources = result.resources.map((r) => ({
    type: r.type,
    name: r.name,
    urn: r.urn,
    parent: r.parent,
    provider: r.provider,
    dependsOn: r.dependsOn,
    inputs: renderValue(r.inputs),
  }));
  fs.writeFileSync(path.join(out, "resources.json"), JSON.stringify(resources, null, 2) + "\n");
  fs.writeFileSync(path.join(out, "outputs.json"), JSON.stringify(renderValue(result.outputs), null, 2) + "\n");
  for (const [name, archive] of [...result.archives.entries()].sort()) {
    await writeArchive(archive, path.join(out, "functions", name));
  }
  const byType = new Map<string, number>();
  for (const r of resources) byType.set(r.type, (byType.get(r.type) ?? 0) + 1);
  process.stdout.write(
    `plan: stack ${args.stack}: ${resources.length} resources, ${result.archives.size} Lambda archives -> ${path.relative(process.cwd(), out) || "."}\n` +
      [...byType.entries()]
        .sort()
        .map(([t, n]) => `  ${String(n).padStart(4)}  ${t}`)
        .join("\n") +
      "\n",
  );
  return 0;
}

if (require.main === module) {
  main().then(
    (code) => process.exit(code),
    (err) => {
      const hint = Error.stackTraceLimit === 0 ? "\n(stack frames are off while the program runs: TRAILWATCH_STACK_TRACES=1 npm run plan ... shows them)" : "";
      process.stderr.write(`plan: failed: ${(err as Error).stack ?? err}${hint}\n`);
      process.exit(1);
    },
  );
}
