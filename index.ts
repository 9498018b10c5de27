/**
 * The `trailwatch` package: the components (also at `trailwatch/components`) and, as `functions`, the pure logic
 * (also at `trailwatch/functions`). The Pulumi program that deploys trailwatch itself is stacks/index.ts (Pulumi.yaml).
 */
export * from "./components";
export * as functions from "./functions";
