// In the handler bundles, in place of the semver package: build.ts aliases it to this file.
//
// The X-Ray SDK (aws-xray-sdk-core), which the Powertools Tracer loads whenever tracing is on,
// requires semver at load for a single call: captureAWS, its patcher for the AWS SDK for
// JavaScript v2, compares the v2 SDK's version. The handlers trace SDK v3 clients
// (captureAWSv3Client), so that call is never made, while semver is 29 KiB of each bundle and
// compiles dozens of regular expressions at load: about 6-9 ms of every traced cold start's CPU
// (docs/benchmarks.md#cold-start). test/handlers/bundle.spec.ts checks that nothing else in a
// bundle imports semver.

/** What the X-Ray SDK's v2 patcher calls; unreachable from the handlers, and says so if reached. */
export function gte(version: string, minimum: string): boolean {
  throw new Error(
    `semver.gte(${JSON.stringify(version)}, ${JSON.stringify(minimum)}): semver is left out of the handler ` +
      "bundles (messaging/handlers/xray-semver.ts); only the X-Ray SDK's AWS SDK v2 patcher (captureAWS) calls it",
  );
}
