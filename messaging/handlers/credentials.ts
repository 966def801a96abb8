// The handler bundles' credential chain, in place of the SDK's default chain: build.ts aliases
// @aws-sdk/credential-provider-node, which every client's runtime configuration imports, to this file.
//
// Lambda hands a function its execution role's credentials in AWS_ACCESS_KEY_ID,
// AWS_SECRET_ACCESS_KEY and AWS_SESSION_TOKEN
// (https://docs.aws.amazon.com/lambda/latest/dg/configuration-envvars.html#configuration-envvars-runtime),
// so in a function the default chain always stops at its first link. Its other links (SSO, the
// shared config files, credential_process, web identity through STS, instance metadata) and the STS
// and SSO clients they bring are about 110 KiB of each bundle: compiled at every cold start and never
// run, about a tenth of a handler's init CPU (docs/benchmarks.md#cold-start). Kept after the
// environment: a container credentials endpoint (AWS_CONTAINER_CREDENTIALS_FULL_URI or
// _RELATIVE_URI), for a host that hands credentials out that way rather than in the environment.
import { fromEnv } from "@aws-sdk/credential-provider-env";
import { fromHttp } from "@aws-sdk/credential-provider-http";

const ENV_KEY = "AWS_ACCESS_KEY_ID";
const ENV_SECRET = "AWS_SECRET_ACCESS_KEY";
const CONTAINER_URIS = ["AWS_CONTAINER_CREDENTIALS_FULL_URI", "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI"];

type ProviderInit = Parameters<typeof fromEnv>[0] & Parameters<typeof fromHttp>[0];

/** The name and signature the SDK clients import from @aws-sdk/credential-provider-node. */
export const defaultProvider =
  (init: ProviderInit = {}): ReturnType<typeof fromEnv> =>
  async (identityProperties) => {
    if (process.env[ENV_KEY] && process.env[ENV_SECRET]) return fromEnv(init)(identityProperties);
    if (CONTAINER_URIS.some((name) => process.env[name])) return fromHttp(init)(identityProperties);
    throw new Error(
      `no AWS credentials: neither ${ENV_KEY} and ${ENV_SECRET} (Lambda sets them from the function's ` +
        `execution role) nor ${CONTAINER_URIS.join(" or ")} is set. The handler bundles read credentials ` +
        "from these only (messaging/handlers/credentials.ts)",
    );
  };
