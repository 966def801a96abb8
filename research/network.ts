// The optional isolated research network (`fieldnotes:research.network`): a VPC with one private
// subnet per Availability Zone and, by default, no internet route at all (no internet gateway, no
// NAT; natGateways adds them for outbound HTTPS only), the VPC
// endpoints a VpcOnly Studio domain and the QC processing job need, and two security groups. Built
// from plain @pulumi/aws resources rather than awsx.ec2.Vpc: awsx 3.x's Vpc is a multi-language
// component whose children are created inside the awsx plugin, so Pulumi's mock engine registers the
// component alone and a plan shows no subnet, route table or endpoint to check (docs/research.md,
// "Isolated network (VpcOnly)").
//
// AWS rules behind the layout ("Connect Amazon SageMaker Studio in a VPC to external resources",
// SageMaker developer guide, requirements for VpcOnly mode):
// - private subnets only; 2-4 IP addresses per user, so every subnet gets a quarter of the VPC range;
// - an interface endpoint to the SageMaker API and runtime (or a NAT), and security groups that allow
//   the outbound connections;
// - NFS (TCP 2049) to the home EFS, and TCP 8192-65535 between the apps inside the security group.
// Interface endpoints resolve the services' public names privately only with private DNS, which
// needs the VPC's DNS support and DNS hostnames on (Amazon VPC user guide, "DNS attributes").
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import type { IsolatedNetworkSettings } from "./config";

/**
 * Interface endpoints, by service suffix (com.amazonaws.<region>.<suffix>), with why each is there.
 * Left out on purpose: sagemaker.featurestore-runtime (no Feature Store here), servicecatalog (no
 * SageMaker Projects), aws.sagemaker.<region>.studio (the Studio UI endpoint for browsers inside a
 * VPC; researchers reach Studio through Identity Center), elasticfilesystem (the home EFS is mounted
 * over NFS through its mount targets, not through the EFS API).
 */
export const INTERFACE_ENDPOINTS: readonly { service: string; why: string }[] = [
  { service: "sagemaker.api", why: "SageMaker API: processing jobs, pipeline runs, Studio's own calls" },
  { service: "sagemaker.runtime", why: "SageMaker runtime: required by AWS for VpcOnly Studio" },
  { service: "sts", why: "the SDKs' caller identity and role sessions" },
  { service: "logs", why: "CloudWatch Logs: app and processing job logs the notebook reads" },
  { service: "ecr.api", why: "ECR API: image manifests and auth tokens for the research image" },
  { service: "ecr.dkr", why: "ECR registry: image pulls (layers come from S3 via the gateway endpoint)" },
];

/** TCP ports Studio apps use between each other inside the domain's security group (AWS: 8192-65535). */
export const STUDIO_APP_PORTS = { from: 8192, to: 65535 } as const;
export const NFS_PORT = 2049;
export const HTTPS_PORT = 443;

/**
 * Pure: `count` equal, consecutive subnet ranges carved from `cidr`, each a quarter of it (so up to
 * four zones), in zone order. The config check guarantees an aligned RFC 1918 block of /16 to /24.
 */
export function subnetCidrs(cidr: string, count: number): string[] {
  return carve(cidr, 0, 2, count);
}

/**
 * Pure: the public subnets for NAT gateways, one per zone, each a quarter of the range's last
 * quarter (a /20 of a /16, a /28 of a /24: the smallest subnet AWS allows).
 */
export function publicSubnetCidrs(cidr: string, count: number): string[] {
  return carve(cidr, 3 * 4, 4, count);
}

/** `count` consecutive blocks of prefix + `extraBits`, starting at block number `first`. */
function carve(cidr: string, first: number, extraBits: number, count: number): string[] {
  const [address, bits] = cidr.split("/");
  const base = address.split(".").reduce((n, octet) => n * 256 + Number(octet), 0);
  const prefix = Number(bits) + extraBits;
  const size = 2 ** (32 - prefix);
  return Array.from({ length: count }, (_, i) => {
    const n = base + (first + i) * size;
    return `${[24, 16, 8, 0].map((shift) => Math.floor(n / 2 ** shift) % 256).join(".")}/${prefix}`;
  });
}

/** Pure: the endpoint service name of `suffix` in `region` (commercial partition). */
export function endpointServiceName(region: string, suffix: string): string {
  return `com.amazonaws.${region}.${suffix}`;
}

/** Pure: the zones to use: the configured names, or the first `count` the Region offers by default. */
export function chooseZones(wanted: number | string[], available: string[], region: string): string[] {
  if (Array.isArray(wanted)) {
    const unknown = wanted.filter((z) => !available.includes(z));
    if (unknown.length > 0) {
      throw new Error(
        `fieldnotes:research.network.availabilityZones names ${unknown.join(", ")}, not available in ${region} ` +
          `for this account (available: ${available.join(", ") || "none"})`,
      );
    }
    return wanted;
  }
  if (available.length < wanted) {
    throw new Error(
      `fieldnotes:research.network.availabilityZones is ${wanted}, but ${region} offers this account only ` +
        `${available.length} (${available.join(", ") || "none"}); ask for fewer`,
    );
  }
  return available.slice(0, wanted);
}

export interface ResearchNetworkArgs extends IsolatedNetworkSettings {
  /** Base of the Name tags. */
  name: string;
  region: string;
}

/**
 * The isolated (VpcOnly) network: a VPC with private subnets, the endpoints Studio and the QC job need, and optional NAT.
 *
 * @example
 * const network = new ResearchNetwork(
 *   "research-network",
 *   { mode: "vpcOnly", cidrBlock: "10.20.0.0/16", availabilityZones: 2, natGateways: 0, name: "fieldnotes", region: "eu-west-1" },
 *   { parent: this },
 * );
 * network.studioSecurityGroupId; // the apps' and the processing job's security group
 */
export class ResearchNetwork extends pulumi.ComponentResource {
  public readonly vpcId: pulumi.Output<string>;
  /** The private subnets, one per zone, in zone order. */
  public readonly subnetIds: pulumi.Output<string>[];
  /** The security group of the Studio apps and the processing job. */
  public readonly studioSecurityGroupId: pulumi.Output<string>;
  /** Everything the domain must not outlive on destroy (it is deleted before these). */
  public readonly endpoints: pulumi.Resource[];

  constructor(name: string, args: ResearchNetworkArgs, opts?: pulumi.ComponentResourceOptions) {
    super("fieldnotes:research:ResearchNetwork", name, {}, opts);
    const tag = (suffix: string) => ({ Name: `${args.name}-${suffix}` });
    const count = Array.isArray(args.availabilityZones)
      ? args.availabilityZones.length
      : args.availabilityZones;

    const vpc = new aws.ec2.Vpc(
      `${name}-vpc`,
      { cidrBlock: args.cidrBlock, enableDnsSupport: true, enableDnsHostnames: true, tags: tag("vpc") },
      { parent: this },
    );
    // The VPC's default security group admits all traffic between its members; nothing here uses it,
    // so it is taken over with no rules (AWS Security Hub control EC2.2).
    new aws.ec2.DefaultSecurityGroup(
      `${name}-default-sg`,
      { vpcId: vpc.id, tags: tag("default-unused") },
      { parent: this },
    );

    // Zones offered by default (not opt-in Local Zones), as the account names them.
    const zones = aws
      .getAvailabilityZonesOutput(
        { state: "available", filters: [{ name: "opt-in-status", values: ["opt-in-not-required"] }] },
        { parent: this },
      )
      .names.apply((available) => chooseZones(args.availabilityZones, available, args.region));

    const cidrs = subnetCidrs(args.cidrBlock, count);
    const routeTables: aws.ec2.RouteTable[] = [];
    // No public IPs on launch, also in the public subnets: only NAT gateways live there, each with
    // its Elastic IP.
    const zoneSubnet = (kind: "private" | "public", i: number, cidrBlock: string) =>
      new aws.ec2.Subnet(
        `${name}-${kind}-${i + 1}`,
        {
          vpcId: vpc.id,
          cidrBlock,
          availabilityZone: zones.apply((z) => z[i]),
          mapPublicIpOnLaunch: false,
          tags: tag(`${kind}-${i + 1}`),
        },
        { parent: this },
      );
    const subnets = cidrs.map((cidrBlock, i) => {
      const subnet = zoneSubnet("private", i, cidrBlock);
      // Only the local route, plus the S3 prefix list the gateway endpoint adds: no path out.
      const table = new aws.ec2.RouteTable(
        `${name}-private-${i + 1}`,
        { vpcId: vpc.id, tags: tag(`private-${i + 1}`) },
        { parent: this },
      );
      new aws.ec2.RouteTableAssociation(
        `${name}-private-${i + 1}`,
        { subnetId: subnet.id, routeTableId: table.id },
        { parent: this },
      );
      routeTables.push(table);
      return subnet;
    });

    if (args.natGateways > 0) this.addInternetEgress(name, args, vpc, zoneSubnet, routeTables, tag);

    // No inline rules: the provider then removes the allow-all egress AWS adds to a new group, and
    // every rule below is its own resource. revokeRulesOnDelete: the two groups refer to each other.
    const group = (suffix: string, description: string) =>
      new aws.ec2.SecurityGroup(
        `${name}-${suffix}`,
        { vpcId: vpc.id, description, revokeRulesOnDelete: true, tags: tag(suffix) },
        { parent: this },
      );
    const studio = group("studio", "Field Notes research: Studio apps and QC processing jobs");
    const endpointsGroup = group(
      "endpoints",
      "Field Notes research: VPC interface endpoints, HTTPS from Studio",
    );

    const s3 = new aws.ec2.VpcEndpoint(
      `${name}-s3`,
      {
        vpcId: vpc.id,
        serviceName: endpointServiceName(args.region, "s3"),
        vpcEndpointType: "Gateway",
        routeTableIds: routeTables.map((t) => t.id),
        tags: tag("s3"),
      },
      { parent: this },
    );
    const subnetIds = subnets.map((s) => s.id);
    const interfaces = INTERFACE_ENDPOINTS.map(
      ({ service }) =>
        new aws.ec2.VpcEndpoint(
          `${name}-${service.replace(/\./g, "-")}`,
          {
            vpcId: vpc.id,
            serviceName: endpointServiceName(args.region, service),
            vpcEndpointType: "Interface",
            // The SDKs keep calling the services' public names; private DNS answers them with the
            // endpoint's addresses in this VPC.
            privateDnsEnabled: true,
            subnetIds,
            securityGroupIds: [endpointsGroup.id],
            tags: tag(service),
          },
          { parent: this },
        ),
    );

    const rule = (
      kind: "ingress" | "egress",
      id: string,
      groupId: pulumi.Input<string>,
      ports: { from: number; to: number },
      peer: { referencedSecurityGroupId: pulumi.Input<string> } | { prefixListId: pulumi.Input<string> },
      description: string,
    ) => {
      const Rule = kind === "ingress" ? aws.vpc.SecurityGroupIngressRule : aws.vpc.SecurityGroupEgressRule;
      return new Rule(
        `${name}-${id}`,
        {
          securityGroupId: groupId,
          ipProtocol: "tcp",
          fromPort: ports.from,
          toPort: ports.to,
          description,
          ...peer,
        },
        { parent: this },
      );
    };
    const self = { referencedSecurityGroupId: studio.id };
    const nfs = { from: NFS_PORT, to: NFS_PORT };
    const https = { from: HTTPS_PORT, to: HTTPS_PORT };
    rule("ingress", "studio-nfs-in", studio.id, nfs, self, "NFS between the domain's apps and home EFS");
    rule("egress", "studio-nfs-out", studio.id, nfs, self, "NFS between the domain's apps and home EFS");
    rule("ingress", "studio-apps-in", studio.id, STUDIO_APP_PORTS, self, "Studio apps to each other");
    rule("egress", "studio-apps-out", studio.id, STUDIO_APP_PORTS, self, "Studio apps to each other");
    rule(
      "egress",
      "studio-endpoints-out",
      studio.id,
      https,
      { referencedSecurityGroupId: endpointsGroup.id },
      "HTTPS to the VPC interface endpoints",
    );
    rule(
      "egress",
      "studio-s3-out",
      studio.id,
      https,
      { prefixListId: s3.prefixListId },
      "HTTPS to S3 through the gateway endpoint",
    );
    rule(
      "ingress",
      "endpoints-https-in",
      endpointsGroup.id,
      https,
      self,
      "HTTPS from Studio apps and processing jobs",
    );

    if (args.natGateways > 0) {
      // The way out the NAT gateways give: HTTPS only (package indexes, Git hosts), never inbound.
      new aws.vpc.SecurityGroupEgressRule(
        `${name}-studio-internet-out`,
        {
          securityGroupId: studio.id,
          ipProtocol: "tcp",
          fromPort: HTTPS_PORT,
          toPort: HTTPS_PORT,
          cidrIpv4: "0.0.0.0/0",
          description: "HTTPS to the internet through the NAT gateways",
        },
        { parent: this },
      );
    }

    this.vpcId = vpc.id;
    this.subnetIds = subnetIds;
    this.studioSecurityGroupId = studio.id;
    this.endpoints = [s3, ...interfaces];
    this.registerOutputs({ vpcId: this.vpcId, subnetIds: this.subnetIds });
  }

  /**
   * Asked for with natGateways: an internet gateway, a public subnet per NAT gateway (AWS: a NAT
   * gateway lives in a public subnet and gives private subnets outbound-only access), and a default
   * route from each private route table to its zone's NAT gateway, or to the single one.
   */
  private addInternetEgress(
    name: string,
    args: ResearchNetworkArgs,
    vpc: aws.ec2.Vpc,
    zoneSubnet: (kind: "public", i: number, cidrBlock: string) => aws.ec2.Subnet,
    privateTables: aws.ec2.RouteTable[],
    tag: (suffix: string) => Record<string, string>,
  ): void {
    const gateway = new aws.ec2.InternetGateway(
      `${name}-igw`,
      { vpcId: vpc.id, tags: tag("igw") },
      { parent: this },
    );
    const publicTable = new aws.ec2.RouteTable(
      `${name}-public`,
      { vpcId: vpc.id, tags: tag("public") },
      { parent: this },
    );
    new aws.ec2.Route(
      `${name}-public-default`,
      { routeTableId: publicTable.id, destinationCidrBlock: "0.0.0.0/0", gatewayId: gateway.id },
      { parent: this },
    );
    const nats = publicSubnetCidrs(args.cidrBlock, args.natGateways).map((cidrBlock, i) => {
      const subnet = zoneSubnet("public", i, cidrBlock);
      new aws.ec2.RouteTableAssociation(
        `${name}-public-${i + 1}`,
        { subnetId: subnet.id, routeTableId: publicTable.id },
        { parent: this },
      );
      const address = new aws.ec2.Eip(
        `${name}-nat-${i + 1}`,
        { domain: "vpc", tags: tag(`nat-${i + 1}`) },
        { parent: this },
      );
      // A NAT gateway in a subnet whose VPC has no attached internet gateway fails to come up.
      return new aws.ec2.NatGateway(
        `${name}-nat-${i + 1}`,
        { subnetId: subnet.id, allocationId: address.id, tags: tag(`nat-${i + 1}`) },
        { parent: this, dependsOn: [gateway] },
      );
    });
    privateTables.forEach((table, i) => {
      new aws.ec2.Route(
        `${name}-private-${i + 1}-default`,
        {
          routeTableId: table.id,
          destinationCidrBlock: "0.0.0.0/0",
          natGatewayId: nats[nats.length === 1 ? 0 : i].id,
        },
        { parent: this },
      );
    });
  }
}
