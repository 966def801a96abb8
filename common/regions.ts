// Commercial-partition Regions (partition "aws"). ARNs built from the topology use the "aws"
// partition, so China and GovCloud Regions are refused rather than producing wrong ARNs.
export const KNOWN_REGIONS: readonly string[] = [
  "us-east-1",
  "us-east-2",
  "us-west-1",
  "us-west-2",
  "af-south-1",
  "ap-east-1",
  "ap-east-2",
  "ap-south-1",
  "ap-south-2",
  "ap-southeast-1",
  "ap-southeast-2",
  "ap-southeast-3",
  "ap-southeast-4",
  "ap-southeast-5",
  "ap-southeast-6",
  "ap-southeast-7",
  "ap-northeast-1",
  "ap-northeast-2",
  "ap-northeast-3",
  "ca-central-1",
  "ca-west-1",
  "eu-central-1",
  "eu-central-2",
  "eu-west-1",
  "eu-west-2",
  "eu-west-3",
  "eu-south-1",
  "eu-south-2",
  "eu-north-1",
  "il-central-1",
  "me-south-1",
  "me-central-1",
  "mx-central-1",
  "sa-east-1",
];

// Regions that are disabled by default (an account opts in), i.e. launched after 20 March 2019.
// Amazon SNS delivers from a topic in one of them to another Region only when the endpoint's policy
// names the Region's own SNS principal, and refuses some combinations outright. Source: "Sending
// Amazon SNS messages to an Amazon SQS queue or AWS Lambda function in a different Region"
// (https://docs.aws.amazon.com/sns/latest/dg/sns-cross-region-delivery.html) and "Prerequisites for
// integrating Amazon SNS with Lambda functions across regions"
// (https://docs.aws.amazon.com/sns/latest/dg/lambda-prereq.html). The SNS page's table also lists
// ap-northeast-3, which AWS Account Management lists as enabled by default; it is left out here
// (see docs/deploy-readiness.md).
export const OPT_IN_REGIONS: readonly string[] = [
  "af-south-1",
  "ap-east-1",
  "ap-east-2",
  "ap-south-2",
  "ap-southeast-3",
  "ap-southeast-4",
  "ap-southeast-5",
  "ap-southeast-6",
  "ap-southeast-7",
  "ca-west-1",
  "eu-central-2",
  "eu-south-1",
  "eu-south-2",
  "il-central-1",
  "me-central-1",
  "me-south-1",
  "mx-central-1",
];

/**
 * Whether an account must opt in to `region` (one of {@link OPT_IN_REGIONS}).
 *
 * @example
 * isOptInRegion("af-south-1"); // true
 * isOptInRegion("us-east-1"); // false
 */
export function isOptInRegion(region: string): boolean {
  return OPT_IN_REGIONS.includes(region);
}

/**
 * The SNS service principal an endpoint's policy must name for deliveries from a topic in
 * `topicRegion` to an endpoint in `endpointRegion`: the Region's own principal
 * (sns.<region>.amazonaws.com) when an opt-in Region's topic delivers to another Region.
 *
 * @example
 * snsServicePrincipal("af-south-1", "us-east-1"); // "sns.af-south-1.amazonaws.com"
 * snsServicePrincipal("us-east-1", "us-west-2"); // "sns.amazonaws.com"
 */
export function snsServicePrincipal(topicRegion: string, endpointRegion: string): string {
  return isOptInRegion(topicRegion) && topicRegion !== endpointRegion
    ? `sns.${topicRegion}.amazonaws.com`
    : "sns.amazonaws.com";
}

/**
 * Whether `region` is a commercial-partition Region this program can build ARNs for.
 *
 * @example
 * isKnownRegion("us-west-2"); // true
 * isKnownRegion("cn-north-1"); // false: another partition
 */
export function isKnownRegion(region: unknown): region is string {
  return typeof region === "string" && KNOWN_REGIONS.includes(region);
}

/**
 * Short, stable code for a Region (us-east-1 → use1, ap-southeast-2 → apse2), for names.
 *
 * @example regionCode("ap-southeast-2"); // "apse2"
 */
export function regionCode(region: string): string {
  const [area, direction, index] = region.split("-");
  const dir = direction
    .replace("northeast", "ne")
    .replace("northwest", "nw")
    .replace("southeast", "se")
    .replace("southwest", "sw")
    .replace("central", "c")
    .replace("north", "n")
    .replace("south", "s")
    .replace("east", "e")
    .replace("west", "w");
  return `${area}${dir}${index}`;
}
