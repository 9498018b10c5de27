/**
 * Environment for running preflight / verify in-process against the local stub: every SDK client reaches the stub
 * through `AWS_ENDPOINT_URL` (the SDK's own setting: https://docs.aws.amazon.com/sdkref/latest/guide/feature-ss-endpoints.html),
 * with static keys naming the caller's account; no profile, no shared files, no instance metadata, so a test without
 * keys really has no credentials. Service-specific endpoint variables other tests set are cleared (a test passes the
 * ones it wants in `overrides`). Restored afterwards.
 */
import * as path from "path";
import * as os from "os";
import { accessKeyFor } from "./awsStub";

export async function withAwsEnv<T>(endpoint: string, account: string, overrides: Record<string, string | undefined>, fn: () => Promise<T>): Promise<T> {
  const nowhere = path.join(os.tmpdir(), "trailwatch-no-such-aws-file");
  // Service-specific endpoints win over AWS_ENDPOINT_URL: clear any another test file left set (useLocalAwsEnv).
  const serviceEndpoints = Object.fromEntries(Object.keys(process.env).filter((k) => k.startsWith("AWS_ENDPOINT_URL_")).map((k) => [k, undefined]));
  const env: Record<string, string | undefined> = {
    ...serviceEndpoints,
    AWS_ENDPOINT_URL: endpoint,
    AWS_ACCESS_KEY_ID: accessKeyFor(account),
    AWS_SECRET_ACCESS_KEY: "stub-secret",
    AWS_SESSION_TOKEN: undefined,
    AWS_PROFILE: undefined,
    AWS_DEFAULT_PROFILE: undefined,
    AWS_CONFIG_FILE: nowhere,
    AWS_SHARED_CREDENTIALS_FILE: nowhere,
    AWS_EC2_METADATA_DISABLED: "true",
    AWS_CONTAINER_CREDENTIALS_RELATIVE_URI: undefined,
    AWS_CONTAINER_CREDENTIALS_FULL_URI: undefined,
    AWS_WEB_IDENTITY_TOKEN_FILE: undefined,
    AWS_REGION: "eu-west-1",
    ...overrides,
  };
  const saved: Record<string, string | undefined> = {};
  for (const [k, v] of Object.entries(env)) {
    saved[k] = process.env[k];
    if (v === undefined) delete process.env[k];
    else process.env[k] = v;
  }
  try {
    return await fn();
  } finally {
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  }
}
