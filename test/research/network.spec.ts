/* eslint-disable @typescript-eslint/no-explicit-any -- plan inputs are untyped JSON, read field by field as a reviewer would */
import { strict as assert } from "assert";
import { Plan, PlannedResource, planStack } from "../../local/plan";
import { loadStackConfig } from "../../local/stack-config";
import { INTERFACE_ENDPOINTS, subnetCidrs } from "../../research/network";

// The isolated research network (fieldnotes:research.network): the real program under the mock engine,
// with the key off (today's plan, untouched) and on, read back resource by resource.

const VPC_TYPES = /^aws:(ec2|vpc)\//;
const NAT_OR_PUBLIC = [
  "aws:ec2/internetGateway:InternetGateway",
  "aws:ec2/natGateway:NatGateway",
  "aws:ec2/eip:Eip",
  "aws:ec2/route:Route",
  "aws:ec2/egressOnlyInternetGateway:EgressOnlyInternetGateway",
];

async function planWith(extra: Record<string, unknown>): Promise<Plan> {
  const base = JSON.parse(loadStackConfig("research").config["fieldnotes:research"]);
  return planStack("research", { config: { "fieldnotes:research": JSON.stringify({ ...base, ...extra }) } });
}
function ok(plan: Plan): Plan {
  if (plan.error) throw new Error(`research stack failed under mocks: ${plan.error.message}`);
  return plan;
}
const ofType = (plan: Plan, type: string) => plan.resources.filter((r) => r.type === type);
function one(plan: Plan, type: string): PlannedResource {
  const found = ofType(plan, type);
  assert.equal(found.length, 1, `expected one ${type}, found ${found.length}`);
  return found[0];
}
const byName = (plan: Plan, suffix: string) => {
  const found = plan.resources.find((r) => r.name.endsWith(suffix));
  assert.ok(found, `a resource named *${suffix}`);
  return found;
};

describe("research isolated network (mock engine)", function () {
  this.timeout(120_000);
  let off: Plan, on: Plan, threeZones: Plan, tooManyZones: Plan, unknownZone: Plan;
  let natPerZone: Plan, natShared: Plan;

  before(async () => {
    [off, on, threeZones, tooManyZones, unknownZone, natPerZone, natShared] = await Promise.all([
      planStack("research").then(ok),
      planWith({ network: { mode: "vpcOnly" } }).then(ok),
      planWith({
        region: "eu-west-1",
        network: { mode: "vpcOnly", cidrBlock: "172.20.8.0/22", availabilityZones: 3 },
      }).then(ok),
      // The mock Region offers three zones.
      planWith({ network: { mode: "vpcOnly", availabilityZones: 4 } }),
      planWith({ network: { mode: "vpcOnly", availabilityZones: ["us-east-1a", "us-east-1f"] } }),
      planWith({ network: { mode: "vpcOnly", natGateways: 2 } }).then(ok),
      planWith({ network: { mode: "vpcOnly", availabilityZones: 3, natGateways: 1 } }).then(ok),
    ]);
  });

  it("adds nothing with the key off: no VPC resource, the default VPC and a PublicInternetOnly domain", () => {
    assert.deepEqual(
      off.resources.filter((r) => VPC_TYPES.test(r.type)).map((r) => r.type),
      [],
    );
    const domain = one(off, "aws:sagemaker/domain:Domain").inputs as Record<string, any>;
    assert.equal(domain.appNetworkAccessType, "PublicInternetOnly");
    assert.equal(domain.defaultUserSettings.securityGroups, undefined);
    assert.equal(domain.domainSettings, undefined);
    assert.equal(domain.defaultSpaceSettings, undefined);
    const step = JSON.parse(one(off, "aws:sagemaker/pipeline:Pipeline").inputs.pipelineDefinition as string)
      .Steps[0];
    assert.equal(step.Arguments.NetworkConfig, undefined);
  });

  it("builds a DNS-enabled VPC with one private subnet per zone and no way to the internet", () => {
    const vpc = one(on, "aws:ec2/vpc:Vpc");
    assert.deepEqual(
      [vpc.inputs.cidrBlock, vpc.inputs.enableDnsSupport, vpc.inputs.enableDnsHostnames],
      ["10.42.0.0/16", true, true],
    );
    const subnets = ofType(on, "aws:ec2/subnet:Subnet");
    assert.deepEqual(
      subnets.map((s) => [s.inputs.availabilityZone, s.inputs.cidrBlock, s.inputs.mapPublicIpOnLaunch]),
      [
        ["us-east-1a", "10.42.0.0/18", false],
        ["us-east-1b", "10.42.64.0/18", false],
      ],
    );
    for (const s of subnets) assert.equal(s.inputs.vpcId, vpc.outputs.id);
    for (const type of NAT_OR_PUBLIC) assert.equal(ofType(on, type).length, 0, `no ${type}`);
    // Each subnet has its own route table with no route of its own (only the local one AWS adds).
    const tables = ofType(on, "aws:ec2/routeTable:RouteTable");
    assert.equal(tables.length, 2);
    for (const t of tables) assert.equal(t.inputs.routes, undefined);
    const associations = ofType(on, "aws:ec2/routeTableAssociation:RouteTableAssociation");
    assert.deepEqual(
      associations.map((a) => [a.inputs.subnetId, a.inputs.routeTableId]).sort(),
      subnets.map((s, i) => [s.outputs.id, tables[i].outputs.id]).sort(),
    );
    // The VPC's default group is taken over with no rules.
    const defaultGroup = one(on, "aws:ec2/defaultSecurityGroup:DefaultSecurityGroup").inputs;
    assert.deepEqual([defaultGroup.ingress, defaultGroup.egress], [undefined, undefined]);
  });

  it("spreads the subnets over the zones asked for, in the stack's Region, within the configured range", () => {
    const subnets = ofType(threeZones, "aws:ec2/subnet:Subnet");
    assert.deepEqual(
      subnets.map((s) => [s.inputs.availabilityZone, s.inputs.cidrBlock]),
      [
        ["eu-west-1a", "172.20.8.0/24"],
        ["eu-west-1b", "172.20.9.0/24"],
        ["eu-west-1c", "172.20.10.0/24"],
      ],
    );
    for (const e of ofType(threeZones, "aws:ec2/vpcEndpoint:VpcEndpoint"))
      assert.match(e.inputs.serviceName as string, /^com\.amazonaws\.eu-west-1\./);
  });

  it("creates every interface endpoint in every private subnet with private DNS, behind the endpoint group", () => {
    const subnets = ofType(on, "aws:ec2/subnet:Subnet").map((s) => s.outputs.id);
    const endpointGroup = byName(on, "-network-endpoints");
    const interfaces = ofType(on, "aws:ec2/vpcEndpoint:VpcEndpoint").filter(
      (e) => e.inputs.vpcEndpointType === "Interface",
    );
    assert.deepEqual(interfaces.map((e) => e.inputs.serviceName).sort(), [
      "com.amazonaws.us-east-1.ecr.api",
      "com.amazonaws.us-east-1.ecr.dkr",
      "com.amazonaws.us-east-1.logs",
      "com.amazonaws.us-east-1.sagemaker.api",
      "com.amazonaws.us-east-1.sagemaker.runtime",
      "com.amazonaws.us-east-1.sts",
    ]);
    assert.equal(interfaces.length, INTERFACE_ENDPOINTS.length);
    for (const e of interfaces) {
      assert.equal(e.inputs.privateDnsEnabled, true, `${e.inputs.serviceName} private DNS`);
      assert.deepEqual(e.inputs.subnetIds, subnets);
      assert.deepEqual(e.inputs.securityGroupIds, [endpointGroup.outputs.id]);
      assert.equal(e.inputs.vpcId, one(on, "aws:ec2/vpc:Vpc").outputs.id);
    }
  });

  it("routes S3 through a gateway endpoint on the private subnets' route tables", () => {
    const gateways = ofType(on, "aws:ec2/vpcEndpoint:VpcEndpoint").filter(
      (e) => e.inputs.vpcEndpointType === "Gateway",
    );
    assert.equal(gateways.length, 1);
    assert.equal(gateways[0].inputs.serviceName, "com.amazonaws.us-east-1.s3");
    assert.deepEqual(
      [...(gateways[0].inputs.routeTableIds as string[])].sort(),
      ofType(on, "aws:ec2/routeTable:RouteTable")
        .map((t) => t.outputs.id)
        .sort(),
    );
  });

  it("lets the endpoints in only HTTPS from the Studio group, and the Studio group only its own NFS and app ports", () => {
    const studio = byName(on, "-network-studio").outputs.id;
    const endpoints = byName(on, "-network-endpoints").outputs.id;
    const s3 = ofType(on, "aws:ec2/vpcEndpoint:VpcEndpoint").find(
      (e) => e.inputs.vpcEndpointType === "Gateway",
    )!.outputs.prefixListId;
    const rules = (kind: string) =>
      ofType(on, `aws:vpc/securityGroup${kind}Rule:SecurityGroup${kind}Rule`).map((r) => {
        const i = r.inputs as Record<string, any>;
        const peer = i.referencedSecurityGroupId ?? i.prefixListId ?? i.cidrIpv4 ?? i.cidrIpv6;
        const name = (id: unknown) =>
          id === studio ? "studio" : id === endpoints ? "endpoints" : id === s3 ? "s3-prefix-list" : id;
        return `${name(i.securityGroupId)} ${i.ipProtocol} ${i.fromPort}-${i.toPort} ${name(peer)}`;
      });
    assert.deepEqual(rules("Ingress").sort(), [
      "endpoints tcp 443-443 studio",
      "studio tcp 2049-2049 studio",
      "studio tcp 8192-65535 studio",
    ]);
    assert.deepEqual(rules("Egress").sort(), [
      "studio tcp 2049-2049 studio",
      "studio tcp 443-443 endpoints",
      "studio tcp 443-443 s3-prefix-list",
      "studio tcp 8192-65535 studio",
    ]);
    // No inline rules: the provider then drops AWS's default allow-all egress from both groups.
    for (const g of ofType(on, "aws:ec2/securityGroup:SecurityGroup")) {
      assert.deepEqual([g.inputs.ingress, g.inputs.egress], [undefined, undefined]);
      assert.equal(g.inputs.revokeRulesOnDelete, true);
    }
  });

  it("runs the domain VpcOnly in the private subnets with the Studio group, after the endpoints", () => {
    const domain = one(on, "aws:sagemaker/domain:Domain");
    const i = domain.inputs as Record<string, any>;
    const studio = byName(on, "-network-studio").outputs.id;
    assert.equal(i.appNetworkAccessType, "VpcOnly");
    assert.equal(i.vpcId, one(on, "aws:ec2/vpc:Vpc").outputs.id);
    assert.deepEqual(
      i.subnetIds,
      ofType(on, "aws:ec2/subnet:Subnet").map((s) => s.outputs.id),
    );
    assert.deepEqual(i.defaultUserSettings.securityGroups, [studio]);
    assert.deepEqual(i.domainSettings.securityGroupIds, [studio]);
    assert.deepEqual(i.defaultSpaceSettings, {
      executionRole: one(on, "aws:iam/role:Role").outputs.arn,
      securityGroups: [studio],
    });
    for (const e of ofType(on, "aws:ec2/vpcEndpoint:VpcEndpoint"))
      assert.ok(domain.dependencies?.includes(e.urn), `the domain waits for ${e.inputs.serviceName}`);
  });

  it("runs the QC processing step in the same subnets and group, with network isolation", () => {
    const step = JSON.parse(one(on, "aws:sagemaker/pipeline:Pipeline").inputs.pipelineDefinition as string)
      .Steps[0];
    assert.deepEqual(step.Arguments.NetworkConfig, {
      EnableNetworkIsolation: true,
      VpcConfig: {
        SecurityGroupIds: [byName(on, "-network-studio").outputs.id],
        Subnets: ofType(on, "aws:ec2/subnet:Subnet").map((s) => s.outputs.id),
      },
    });
    // The job's network interfaces are made with the execution role.
    const statements = ofType(on, "aws:iam/rolePolicy:RolePolicy").flatMap(
      (p) => JSON.parse(p.inputs.policy as string).Statement,
    );
    const eni = statements.find((s: any) => s.Sid === "ProcessingJobNetworkInterfaces");
    assert.ok(eni?.Action.includes("ec2:CreateNetworkInterface"));
    const offStatements = ofType(off, "aws:iam/rolePolicy:RolePolicy").flatMap(
      (p) => JSON.parse(p.inputs.policy as string).Statement,
    );
    assert.equal(
      offStatements.find((s: any) => s.Sid === "ProcessingJobNetworkInterfaces"),
      undefined,
      "no EC2 rights without the isolated network",
    );
  });

  it("stops with the zone count and the zones the Region has when it has too few, or lacks a named zone", () => {
    assert.equal(
      tooManyZones.error?.message,
      "fieldnotes:research.network.availabilityZones is 4, but us-east-1 offers this account only 3 " +
        "(us-east-1a, us-east-1b, us-east-1c); ask for fewer",
    );
    assert.equal(
      unknownZone.error?.message,
      "fieldnotes:research.network.availabilityZones names us-east-1f, not available in us-east-1 for this " +
        "account (available: us-east-1a, us-east-1b, us-east-1c)",
    );
    assert.equal(ofType(tooManyZones, "aws:ec2/subnet:Subnet").length, 0);
  });

  it("carves equal quarters of the range in order", () => {
    assert.deepEqual(subnetCidrs("10.0.0.0/16", 4), [
      "10.0.0.0/18",
      "10.0.64.0/18",
      "10.0.128.0/18",
      "10.0.192.0/18",
    ]);
    assert.deepEqual(subnetCidrs("192.168.255.0/24", 2), ["192.168.255.0/26", "192.168.255.64/26"]);
  });

  describe("with natGateways (outbound internet, asked for)", () => {
    const defaultRoutes = (plan: Plan) =>
      ofType(plan, "aws:ec2/route:Route").filter((r) => r.inputs.destinationCidrBlock === "0.0.0.0/0");

    it("adds an internet gateway, one public subnet, Elastic IP and NAT gateway per zone, each private zone routed to its own", () => {
      const vpc = one(natPerZone, "aws:ec2/vpc:Vpc").outputs.id;
      const igw = one(natPerZone, "aws:ec2/internetGateway:InternetGateway");
      assert.equal(igw.inputs.vpcId, vpc);
      const publics = ofType(natPerZone, "aws:ec2/subnet:Subnet").filter((s) => s.name.includes("-public-"));
      assert.deepEqual(
        publics.map((s) => [s.inputs.availabilityZone, s.inputs.cidrBlock, s.inputs.mapPublicIpOnLaunch]),
        [
          ["us-east-1a", "10.42.192.0/20", false],
          ["us-east-1b", "10.42.208.0/20", false],
        ],
      );
      const nats = ofType(natPerZone, "aws:ec2/natGateway:NatGateway");
      const eips = ofType(natPerZone, "aws:ec2/eip:Eip");
      assert.deepEqual(
        nats.map((n) => [n.inputs.subnetId, n.inputs.allocationId]),
        publics.map((p, i) => [p.outputs.id, eips[i].outputs.id]),
      );
      for (const n of nats) assert.ok(n.dependencies?.includes(igw.urn), "NAT after the internet gateway");
      const privateTables = ofType(natPerZone, "aws:ec2/routeTable:RouteTable").filter((t) =>
        t.name.includes("-private-"),
      );
      const routes = defaultRoutes(natPerZone);
      assert.deepEqual(
        privateTables.map(
          (t) => routes.find((r) => r.inputs.routeTableId === t.outputs.id)?.inputs.natGatewayId,
        ),
        nats.map((n) => n.outputs.id),
      );
      const publicTable = ofType(natPerZone, "aws:ec2/routeTable:RouteTable").find((t) =>
        t.name.endsWith("-public"),
      )!;
      assert.equal(
        routes.find((r) => r.inputs.routeTableId === publicTable.outputs.id)?.inputs.gatewayId,
        igw.outputs.id,
      );
      // The domain still sits in the private subnets only.
      assert.deepEqual(
        one(natPerZone, "aws:sagemaker/domain:Domain").inputs.subnetIds,
        ofType(natPerZone, "aws:ec2/subnet:Subnet")
          .filter((s) => s.name.includes("-private-"))
          .map((s) => s.outputs.id),
      );
    });

    it("routes every zone through the one NAT gateway when natGateways is 1", () => {
      const nats = ofType(natShared, "aws:ec2/natGateway:NatGateway");
      assert.equal(nats.length, 1);
      const privateRoutes = defaultRoutes(natShared).filter((r) => r.inputs.natGatewayId !== undefined);
      assert.equal(privateRoutes.length, 3);
      for (const r of privateRoutes) assert.equal(r.inputs.natGatewayId, nats[0].outputs.id);
    });

    it("lets the Studio group out on HTTPS to the internet, and still nobody in", () => {
      const studio = byName(natPerZone, "-network-studio").outputs.id;
      const open = ofType(natPerZone, "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule").filter(
        (r) => r.inputs.cidrIpv4 === "0.0.0.0/0",
      );
      assert.deepEqual(
        open.map((r) => [r.inputs.securityGroupId, r.inputs.ipProtocol, r.inputs.fromPort, r.inputs.toPort]),
        [[studio, "tcp", 443, 443]],
      );
      for (const r of ofType(natPerZone, "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule"))
        assert.equal(r.inputs.cidrIpv4, undefined, "no ingress from an address range");
      // Without NAT gateways no rule names the internet.
      assert.equal(
        ofType(on, "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule").filter((r) => r.inputs.cidrIpv4)
          .length,
        0,
      );
    });
  });
});
