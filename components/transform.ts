/**
 * Child customization, SST v3 style: every reusable component takes `transform: { <child>: ... }` and applies it to
 * that child's args (and resource options) just before creating it. A transform is either a partial args object,
 * merged over the component's args, or a function that edits args and options in place. It is the escape hatch for
 * what the component does not expose (a tag, a memory size, a provider, a protect flag) without forking it.
 *
 * These run in the program, on the JavaScript args, so a `pulumi preview` and the offline plan (`npm run plan`, the
 * mock runtime) both show their effect. (Pulumi's engine-side `transforms` resource option is carried out by the
 * Pulumi CLI's engine; the mock runtime records it and never calls it, so the tests could not see it.)
 * https://www.pulumi.com/docs/iac/concepts/options/transforms/
 *
 * @example
 * new SgRevertBot("sg", { ..., transform: { function: (args) => { args.memorySize = 512; } } });
 * new CentralEventBus("central", { ..., transform: { queue: { messageRetentionSeconds: 1209600 } } });
 */
import type * as pulumi from "@pulumi/pulumi";

export type Transform<T> = Partial<T> | ((args: T, opts: pulumi.CustomResourceOptions, name: string) => void);

/** Apply `transform` (if any) to a child's name, args and options, returning what to create the child with. */
export function transformed<T extends object>(
  transform: Transform<T> | undefined,
  name: string,
  args: T,
  opts: pulumi.CustomResourceOptions,
): [string, T, pulumi.CustomResourceOptions] {
  if (!transform) return [name, args, opts];
  if (typeof transform === "function") {
    const a = { ...args };
    const o = { ...opts };
    transform(a, o, name);
    return [name, a, o];
  }
  return [name, { ...args, ...transform }, opts];
}
