import * as assert from "node:assert/strict";
import * as http from "node:http";
import type { AddressInfo } from "node:net";
import { HANDLER_BUNDLES, handlerBundleMetafile } from "../../messaging/handlers/build";
import { defaultProvider } from "../../messaging/handlers/credentials";

/** The default chain's links a Lambda function never reaches, and the STS/SSO clients they use. */
const UNREACHED = [
  "credential-provider-ini",
  "credential-provider-login",
  "credential-provider-process",
  "credential-provider-sso",
  "credential-provider-web-identity",
  "nested-clients",
];
const VARIABLES = [
  "AWS_ACCESS_KEY_ID",
  "AWS_SECRET_ACCESS_KEY",
  "AWS_SESSION_TOKEN",
  "AWS_CONTAINER_CREDENTIALS_FULL_URI",
  "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
  "AWS_CONTAINER_AUTHORIZATION_TOKEN",
];

describe("handler bundles read credentials from the environment (or a container endpoint)", function () {
  this.timeout(60_000);
  const saved = Object.fromEntries(VARIABLES.map((name) => [name, process.env[name]]));
  beforeEach(() => VARIABLES.forEach((name) => delete process.env[name]));
  afterEach(() => {
    for (const [name, value] of Object.entries(saved)) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
  });

  for (const { handler, downstream } of HANDLER_BUNDLES) {
    it(`${handler}${downstream ? ` (${downstream})` : ""}: the bundle carries this chain, not the SDK's default one`, () => {
      const inputs = Object.keys(handlerBundleMetafile(handler, downstream).inputs);
      assert.deepEqual(
        inputs.filter((file) => UNREACHED.some((pkg) => file.includes(`/${pkg}/`))),
        [],
      );
      assert.ok(inputs.some((file) => file.endsWith("messaging/handlers/credentials.ts")));
    });
  }

  it("takes the environment's keys and session token", async () => {
    Object.assign(process.env, {
      AWS_ACCESS_KEY_ID: "AKIDENV",
      AWS_SECRET_ACCESS_KEY: "secret",
      AWS_SESSION_TOKEN: "token",
    });
    const credentials = await defaultProvider()();
    assert.deepEqual(
      [credentials.accessKeyId, credentials.secretAccessKey, credentials.sessionToken],
      ["AKIDENV", "secret", "token"],
    );
  });

  it("without them, asks the container credentials endpoint", async () => {
    const server = http.createServer((_request, response) => {
      response.setHeader("content-type", "application/json");
      response.end(
        JSON.stringify({
          AccessKeyId: "AKIDCONTAINER",
          SecretAccessKey: "secret",
          Token: "token",
          Expiration: new Date(Date.now() + 3_600_000).toISOString(),
        }),
      );
    });
    await new Promise<void>((listening) => server.listen(0, "127.0.0.1", listening));
    try {
      const { port } = server.address() as AddressInfo;
      process.env.AWS_CONTAINER_CREDENTIALS_FULL_URI = `http://127.0.0.1:${port}/role`;
      assert.equal((await defaultProvider()()).accessKeyId, "AKIDCONTAINER");
    } finally {
      server.close();
    }
  });

  it("with neither, fails naming the variables it reads", async () => {
    process.env.AWS_ACCESS_KEY_ID = "AKID-without-secret";
    await assert.rejects(defaultProvider()(), {
      message:
        "no AWS credentials: neither AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (Lambda sets them from the function's " +
        "execution role) nor AWS_CONTAINER_CREDENTIALS_FULL_URI or AWS_CONTAINER_CREDENTIALS_RELATIVE_URI is set. " +
        "The handler bundles read credentials from these only (messaging/handlers/credentials.ts)",
    });
  });
});
