/**
 * Runs the trailwatch program on the Pulumi SDK's mock runtime and records what `pulumi up` would create: every
 * resource (type, name, parent, provider, inputs) and each Lambda's code archive. No CLI, no plugin, no credentials.
 *
 * Mock semantics (pulumi/pulumi sdk/nodejs/runtime/mocks.ts): `newResource` sees type, name, inputs and the
 * provider reference but not the parent, so the monitor's registerResource is wrapped to read the parent URN.
 */
import * as fs from "fs";
import * as path from "path";
import * as crypto from "crypto";
import * as pulumi from "@pulumi/pulumi";

export interface PlannedResource {
  type: string;
  name: string;
  urn: string;
  parent: string | null;
  provider: string | null;
  /** URNs this resource waits for: explicit `dependsOn` and resources its inputs come from. */
  dependsOn: string[];
  inputs: unknown;
}

export interface PlanResult {
  resources: PlannedResource[];
  /** Lambda resource name -> its code archive as Pulumi would upload it. */
  archives: Map<string, pulumi.asset.Archive>;
  outputs: Record<string, unknown>;
}

export const SECRET_PLACEHOLDER = "[secret]";

/** Read Pulumi.yaml's project name and a stack file's config into the flat string map Pulumi passes programs. */
export function readStackConfig(projectDir: string, configFile: string): { project: string; config: Record<string, string>; secretKeys: string[] } {
  // A devDependency, loaded here only: the rest of this module also runs where just trailwatch's runtime dependencies
  // are installed (tests/consumerPackage.test.ts plans a program that installed the package).
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const yaml = require("js-yaml") as typeof import("js-yaml");
  const projectDoc = yaml.load(fs.readFileSync(path.join(projectDir, "Pulumi.yaml"), "utf8")) as { name: string; config?: Record<string, unknown> };
  const project = projectDoc.name;
  let stackDoc: { config?: Record<string, unknown> } | undefined;
  try {
    stackDoc = (yaml.load(fs.readFileSync(configFile, "utf8")) ?? {}) as { config?: Record<string, unknown> };
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") throw new Error(`no stack config file ${configFile}`);
    const mark = (err as { mark?: { line: number; column: number } }).mark;
    throw new Error(`${configFile}${mark ? `:${mark.line + 1}:${mark.column + 1}` : ""}: not valid YAML: ${(err as Error).message.split("\n")[0]}`);
  }
  const config: Record<string, string> = {};
  const secretKeys: string[] = [];
  const put = (rawKey: string, value: unknown) => {
    const key = rawKey.includes(":") ? rawKey : `${project}:${rawKey}`;
    if (value !== null && typeof value === "object" && !Array.isArray(value) && "secure" in value) {
      config[key] = SECRET_PLACEHOLDER;
      secretKeys.push(key);
    } else if (value !== null && typeof value === "object" && !Array.isArray(value) && "value" in value && Object.keys(value).length === 1) {
      put(rawKey, (value as { value: unknown }).value); // project-level `key: { value: ... }`
    } else {
      config[key] = typeof value === "string" ? value : JSON.stringify(value);
    }
  };
  for (const [k, v] of Object.entries(projectDoc.config ?? {})) put(k, v);
  for (const [k, v] of Object.entries(stackDoc.config ?? {})) put(k, v);
  return { project, config, secretKeys };
}

function shortHash(s: string): string {
  return crypto.createHash("sha256").update(s).digest("hex").slice(0, 7);
}

interface ProviderFacts {
  account: string;
  region: string;
}

/** Realistic outputs per resource type, so ARNs and names that flow into policies look like AWS's. */
function mockState(type: string, name: string, inputs: Record<string, any>, where: ProviderFacts): Record<string, unknown> {
  const { account, region } = where;
  const physical: string = inputs.name ?? inputs.bucket ?? `${name}-${shortHash(type + name)}`;
  const [, mod, kind] = type.split(/[:/]/); // aws:s3/bucket:Bucket -> s3
  const lower = (kind ?? "").toLowerCase();
  const state: Record<string, unknown> = { ...inputs, name: inputs.name ?? physical };
  let arn = `arn:aws:${mod}:${region}:${account}:${lower}/${physical}`;
  switch (type) {
    case "aws:s3/bucket:Bucket":
    case "aws:s3/bucketV2:BucketV2":
      arn = `arn:aws:s3:::${physical}`;
      Object.assign(state, { bucket: physical, bucketDomainName: `${physical}.s3.amazonaws.com` });
      break;
    case "aws:iam/role:Role":
      arn = `arn:aws:iam::${account}:role${inputs.path ?? "/"}${physical}`;
      state.uniqueId = `AROA${shortHash(arn).toUpperCase()}EXAMPLE`;
      break;
    case "aws:iam/policy:Policy":
      arn = `arn:aws:iam::${account}:policy${inputs.path ?? "/"}${physical}`;
      break;
    case "aws:kms/key:Key":
      state.keyId = `${shortHash(name)}-1111-2222-3333-${shortHash(type + name)}44444`.slice(0, 36);
      arn = `arn:aws:kms:${region}:${account}:key/${state.keyId}`;
      break;
    case "aws:sqs/queue:Queue":
      arn = `arn:aws:sqs:${region}:${account}:${physical}`;
      state.url = `https://sqs.${region}.amazonaws.com/${account}/${physical}`;
      break;
    case "aws:sns/topic:Topic":
      arn = `arn:aws:sns:${region}:${account}:${physical}`;
      break;
    case "aws:lambda/function:Function":
      arn = `arn:aws:lambda:${region}:${account}:function:${physical}`;
      state.invokeArn = `arn:aws:apigateway:${region}:lambda:path/2015-03-31/functions/${arn}/invocations`;
      break;
    case "aws:lambda/functionUrl:FunctionUrl":
      state.functionUrl = `https://${shortHash(name)}example.lambda-url.${region}.on.aws/`;
      break;
    case "aws:cloudwatch/logGroup:LogGroup":
      arn = `arn:aws:logs:${region}:${account}:log-group:${physical}`;
      break;
    case "aws:cloudwatch/eventBus:EventBus":
      arn = `arn:aws:events:${region}:${account}:event-bus/${physical}`;
      break;
    case "aws:cloudwatch/eventRule:EventRule":
      arn = `arn:aws:events:${region}:${account}:rule/${inputs.eventBusName ?? "default"}/${physical}`;
      break;
    case "aws:dynamodb/table:Table":
      arn = `arn:aws:dynamodb:${region}:${account}:table/${physical}`;
      state.streamArn = `${arn}/stream/2026-01-01T00:00:00.000`;
      break;
    case "aws:secretsmanager/secret:Secret":
      arn = `arn:aws:secretsmanager:${region}:${account}:secret:${physical}-AbCdEf`;
      break;
    case "aws:cloudtrail/trail:Trail":
      arn = `arn:aws:cloudtrail:${region}:${account}:trail/${physical}`;
      break;
  }
  state.arn = arn;
  return state;
}

/** Render inputs for resources.json: secrets as "[secret]", archives and assets summarized, keys sorted. */
export function renderValue(value: unknown): unknown {
  if (value === null || value === undefined) return value ?? null;
  if (pulumi.asset.Archive.isInstance(value as any)) return { $archive: "see functions/" };
  if (pulumi.asset.Asset.isInstance(value as any)) return { $asset: true };
  if (Array.isArray(value)) return value.map(renderValue);
  if (typeof value === "object") {
    const obj = value as Record<string, unknown>;
    if (obj[pulumi.runtime.specialSigKey] === pulumi.runtime.specialSecretSig) return SECRET_PLACEHOLDER;
    const out: Record<string, unknown> = {};
    for (const k of Object.keys(obj).sort()) if (obj[k] !== undefined) out[k] = renderValue(obj[k]);
    return out;
  }
  return value;
}

/**
 * Run `program` on the mock runtime. Must be called once per process (the Pulumi runtime is global).
 * Config errors thrown by the program propagate unchanged.
 */
export async function runOnMocks(
  opts: { project: string; stack: string; config: Record<string, string>; secretKeys: string[] },
  program: () => Record<string, unknown>,
): Promise<PlanResult> {
  pulumi.runtime.setAllConfig(opts.config, opts.secretKeys);
  const providers = new Map<string, ProviderFacts>();
  const recorded = new Map<string, PlannedResource>();
  const archives = new Map<string, pulumi.asset.Archive>();
  const parents = new Map<string, string>();
  const dependencies = new Map<string, string[]>();
  const home: ProviderFacts = { account: "000000000000", region: "us-east-1" };

  const urnOf = (type: string, name: string, parent: string | null) => {
    let qualified = type;
    if (parent) qualified = parent.split("::")[2].split("$").pop() + "$" + type;
    return `urn:pulumi:${opts.stack}::${opts.project}::${qualified}::${name}`;
  };

  await pulumi.runtime.setMocks(
    {
      newResource(args: pulumi.runtime.MockResourceArgs): { id: string; state: Record<string, unknown> } {
        const key = `${args.type}::${args.name}`;
        const parent = parents.get(key) ?? null;
        const urn = urnOf(args.type, args.name, parent);
        const providerUrn = args.provider ? args.provider.split("::").slice(0, -1).join("::") : null;
        const where = (providerUrn && providers.get(providerUrn)) || home;
        if (args.type.startsWith("pulumi:providers:")) {
          // Provider inputs reach the engine JSON-encoded; decode them so the plan reads like the program.
          for (const [k, v] of Object.entries(args.inputs)) if (typeof v === "string" && /^[[{]/.test(v)) args.inputs[k] = JSON.parse(v);
          if (args.type === "pulumi:providers:aws")
            providers.set(urn, { account: args.inputs.allowedAccountIds?.[0] ?? home.account, region: args.inputs.region ?? home.region });
        }
        if (args.type === "aws:lambda/function:Function" && args.inputs.code) archives.set(args.name, args.inputs.code);
        recorded.set(urn, { type: args.type, name: args.name, urn, parent, provider: providerUrn, dependsOn: dependencies.get(key) ?? [], inputs: args.inputs });
        const state = mockState(args.type, args.name, args.inputs, where);
        // A bucket's id is its name, as in AWS; other ids are opaque.
        const id = args.type.startsWith("pulumi:providers:")
          ? `${args.name}-provider-id`
          : typeof state.bucket === "string" && args.type.startsWith("aws:s3/bucket")
            ? state.bucket
            : `${args.name}-${shortHash(urn)}`;
        return { id, state };
      },
      call(args: pulumi.runtime.MockCallArgs): Record<string, unknown> {
        const providerUrn = args.provider ? args.provider.split("::").slice(0, -1).join("::") : "";
        const where = providers.get(providerUrn) ?? home;
        switch (args.token) {
          case "aws:index/getCallerIdentity:getCallerIdentity":
            return { accountId: where.account, arn: `arn:aws:iam::${where.account}:root`, userId: where.account };
          case "aws:index/getRegion:getRegion":
            return { name: where.region, region: where.region };
          case "aws:index/getPartition:getPartition":
            return { partition: "aws", dnsSuffix: "amazonaws.com" };
          default:
            return {};
        }
      },
    },
    opts.project,
    opts.stack,
    false,
  );

  // The parent is on the RegisterResource request but not in MockResourceArgs: note it before the mock runs.
  const monitor = pulumi.runtime.getMonitor() as unknown as { registerResource: (req: any, cb: any) => unknown };
  const register = monitor.registerResource.bind(monitor);
  monitor.registerResource = (req: any, cb: any) => {
    const parent: string = req.getParent();
    if (parent) parents.set(`${req.getType()}::${req.getName()}`, parent);
    dependencies.set(`${req.getType()}::${req.getName()}`, [...new Set<string>(req.getDependenciesList())].sort());
    return register(req, cb);
  };

  let outputs: Record<string, unknown> = {};
  let failure: unknown;
  await pulumi.runtime.runInPulumiStack(async () => {
    try {
      outputs = program();
    } catch (err) {
      failure = err;
    }
    return outputs;
  });
  if (failure) throw failure;
  // Wait until every registration (and the closures CallbackFunction serializes) has settled.
  await (require("@pulumi/pulumi/runtime/settings") as { waitForRPCs(): Promise<void> }).waitForRPCs();
  const resources = [...recorded.values()].sort((a, b) => (a.urn < b.urn ? -1 : a.urn > b.urn ? 1 : 0));
  // Stack outputs hold Outputs; resolve them to the values `pulumi stack output` would show.
  const resolved = await new Promise<Record<string, unknown>>((resolve) => {
    pulumi.output(outputs).apply((v) => {
      resolve(v as Record<string, unknown>);
      return v;
    });
  });
  return { resources, archives, outputs: resolved };
}

/** Write an archive's entries under `dir`, as Lambda would see the unzipped code. */
export async function writeArchive(archive: pulumi.asset.Archive | pulumi.asset.Asset, dir: string): Promise<void> {
  const a = archive as any;
  if (pulumi.asset.AssetArchive.isInstance(archive)) {
    const assets: Record<string, pulumi.asset.Asset | pulumi.asset.Archive> = await a.assets;
    for (const entry of Object.keys(assets).sort()) {
      const target = path.join(dir, entry);
      const asset: any = assets[entry];
      if (pulumi.asset.StringAsset.isInstance(asset)) {
        fs.mkdirSync(path.dirname(target), { recursive: true });
        fs.writeFileSync(target, await (asset as any).text);
      } else if (pulumi.asset.FileAsset.isInstance(asset)) {
        fs.mkdirSync(path.dirname(target), { recursive: true });
        fs.copyFileSync(await (asset as any).path, target);
      } else if (pulumi.asset.FileArchive.isInstance(asset)) {
        fs.cpSync(await (asset as any).path, target, { recursive: true, dereference: true });
      } else {
        await writeArchive(asset, target);
      }
    }
  } else if (pulumi.asset.FileArchive.isInstance(archive)) {
    fs.cpSync(await (archive as any).path, dir, { recursive: true, dereference: true });
  } else {
    throw new Error(`unsupported archive kind in ${dir}`);
  }
}
