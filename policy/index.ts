/**
 * trailwatch's deploy rules as a Pulumi CrossGuard policy pack: `pulumi preview --policy-pack policy` (from the
 * repository root, after `npm ci`). The rules live in ./rules.ts so tests can run them without this constructor,
 * which starts the analyzer server.
 */
import { PolicyPack } from "@pulumi/policy";
import { asPolicies } from "./rules";

new PolicyPack("trailwatch", { policies: asPolicies() });
