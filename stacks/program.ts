/**
 * The trailwatch program: validate config, build providers, instantiate the components the config switches on,
 * return the stack outputs. `stacks/index.ts` runs it under Pulumi; `npm run plan` runs it on the mock runtime.
 */
import * as pulumi from "@pulumi/pulumi";
import { ConfigError, parseStackConfig, StackConfig } from "./config";
import { AccountProviders } from "./providers";

/** Read and validate the stack config; throws ConfigError listing every problem before any resource exists. */
export function loadStackConfig(): StackConfig {
  const result = parseStackConfig(pulumi.runtime.allConfig());
  if (!result.ok) throw new ConfigError(result.problems);
  return result.config;
}

export function runProgram(): Record<string, pulumi.Input<unknown>> {
  const config = loadStackConfig();
  const providers = new AccountProviders(config);
  const outputs: Record<string, pulumi.Input<unknown>> = {
    organizationId: config.organizationId,
    homeRegion: config.homeRegion,
  };
  // Touch the three account providers so a plan shows the credentials each account needs.
  for (const role of ["management", "security", "logArchive"] as const) providers.of(role);
  return outputs;
}
