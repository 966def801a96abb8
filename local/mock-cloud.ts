// What the mock engine answers for each resource and invoke. Outputs are realistic (ARNs in the
// shape AWS gives them, in the provider's account and Region) because the program builds policies,
// environment variables and other resources' inputs from them, and the plan view and the local
// deployer read those inputs back.
import { createHash } from "crypto";

/** Account and Region of an explicit or default AWS provider. */
export interface ProviderPlacement {
  account?: string;
  region?: string;
}

/** Placeholders for a resource whose provider does not say (a default provider without config). */
export const fallbackAccount = "123456789012";
export const fallbackRegion = "us-east-1";

/** Knobs a test can turn on the mock cloud, e.g. to see the program's "no Identity Center" error. */
export interface MockCloudOptions {
  /** How many IAM Identity Center instances `aws.ssoadmin.getInstances` finds (default 1). */
  ssoInstances?: number;
}

export interface MockedResource {
  id: string;
  state: Record<string, unknown>;
}

function hex(seed: string, length: number): string {
  let out = "";
  for (let i = 0; out.length < length; i++) {
    out += createHash("sha256").update(`${seed}#${i}`).digest("hex");
  }
  return out.slice(0, length);
}

function uuid(seed: string): string {
  const h = hex(seed, 32);
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-a${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

/** Placement of a provider from its inputs: `allowedAccountIds[0]` and `region`. */
export function providerPlacement(inputs: Record<string, unknown>): ProviderPlacement {
  let allowed: unknown = inputs.allowedAccountIds;
  // Provider inputs travel JSON-encoded when they are not strings.
  if (typeof allowed === "string") {
    try {
      allowed = JSON.parse(allowed);
    } catch {
      allowed = [allowed];
    }
  }
  const account = Array.isArray(allowed) && typeof allowed[0] === "string" ? allowed[0] : undefined;
  const region = typeof inputs.region === "string" ? inputs.region : undefined;
  return { account, region };
}

/** Outputs for a newly registered resource: its inputs echoed, plus id, arn and type-specific fields. */
export function mockResource(
  type: string,
  name: string,
  inputs: Record<string, unknown>,
  where: ProviderPlacement,
  urn: string,
): MockedResource {
  const account = where.account ?? fallbackAccount;
  const region = where.region ?? fallbackRegion;
  const str = (k: string): string | undefined =>
    typeof inputs[k] === "string" ? (inputs[k] as string) : undefined;
  const physical = str("name") ?? name;
  const state: Record<string, unknown> = { ...inputs };
  let id = `${physical}-${hex(urn, 8)}`;
  const set = (fields: Record<string, unknown>) => Object.assign(state, fields);

  if (type.startsWith("pulumi:providers:")) {
    return { id: uuid(urn), state };
  }

  switch (type) {
    case "aws:sns/topic:Topic":
      id = `arn:aws:sns:${region}:${account}:${physical}`;
      set({ name: physical, arn: id, owner: account });
      break;
    case "aws:sns/topicSubscription:TopicSubscription": {
      const topic = str("topic") ?? `arn:aws:sns:${region}:${account}:topic`;
      id = `${topic}:${uuid(urn)}`;
      set({ arn: id, ownerId: account, confirmationWasAuthenticated: true, pendingConfirmation: false });
      break;
    }
    case "aws:sqs/queue:Queue":
      id = `https://sqs.${region}.amazonaws.com/${account}/${physical}`;
      set({ name: physical, arn: `arn:aws:sqs:${region}:${account}:${physical}`, url: id });
      break;
    case "aws:s3/bucket:Bucket":
    case "aws:s3/bucketV2:BucketV2": {
      const bucket = str("bucket") ?? physical;
      id = bucket;
      set({
        bucket,
        arn: `arn:aws:s3:::${bucket}`,
        region,
        bucketDomainName: `${bucket}.s3.amazonaws.com`,
        bucketRegionalDomainName: `${bucket}.s3.${region}.amazonaws.com`,
        hostedZoneId: "Z3AQBSTGFYJSTF",
      });
      break;
    }
    case "aws:lambda/function:Function": {
      const arn = `arn:aws:lambda:${region}:${account}:function:${physical}`;
      id = physical;
      set({
        name: physical,
        arn,
        qualifiedArn: `${arn}:$LATEST`,
        invokeArn: `arn:aws:apigateway:${region}:lambda:path/2015-03-31/functions/${arn}/invocations`,
        version: "$LATEST",
      });
      break;
    }
    case "aws:lambda/eventSourceMapping:EventSourceMapping":
      id = uuid(urn);
      set({
        uuid: id,
        arn: `arn:aws:lambda:${region}:${account}:event-source-mapping:${id}`,
        state: "Enabled",
      });
      break;
    case "aws:iam/role:Role": {
      const rolePath = str("path") ?? "/";
      id = physical;
      set({
        name: physical,
        arn: `arn:aws:iam::${account}:role${rolePath}${physical}`,
        uniqueId: `AROA${hex(urn, 17).toUpperCase()}`,
      });
      break;
    }
    case "aws:iam/policy:Policy":
      id = `arn:aws:iam::${account}:policy${str("path") ?? "/"}${physical}`;
      set({ name: physical, arn: id, policyId: `ANPA${hex(urn, 17).toUpperCase()}` });
      break;
    case "aws:kms/key:Key": {
      const keyId = uuid(urn);
      id = keyId;
      set({ keyId, arn: `arn:aws:kms:${region}:${account}:key/${keyId}` });
      break;
    }
    case "aws:kms/alias:Alias":
      id = physical;
      set({
        name: physical,
        arn: `arn:aws:kms:${region}:${account}:${physical}`,
        targetKeyArn: str("targetKeyId"),
      });
      break;
    case "aws:sfn/stateMachine:StateMachine":
      id = `arn:aws:states:${region}:${account}:stateMachine:${physical}`;
      set({ name: physical, arn: id, status: "ACTIVE" });
      break;
    case "aws:ecs/cluster:Cluster":
      id = `arn:aws:ecs:${region}:${account}:cluster/${physical}`;
      set({ name: physical, arn: id });
      break;
    case "aws:ecs/taskDefinition:TaskDefinition": {
      const family = str("family") ?? physical;
      const base = `arn:aws:ecs:${region}:${account}:task-definition/${family}`;
      id = family;
      set({ family, revision: 1, arn: `${base}:1`, arnWithoutRevision: base });
      break;
    }
    case "aws:cloudwatch/eventBus:EventBus":
      id = physical;
      set({ name: physical, arn: `arn:aws:events:${region}:${account}:event-bus/${physical}` });
      break;
    case "aws:cloudwatch/eventRule:EventRule": {
      const bus = str("eventBusName");
      id = bus && bus !== "default" ? `${bus}|${physical}` : physical;
      const busName = bus?.startsWith("arn:") ? bus.split("/").pop() : bus;
      const path = busName && busName !== "default" ? `${busName}/${physical}` : physical;
      set({ name: physical, arn: `arn:aws:events:${region}:${account}:rule/${path}` });
      break;
    }
    case "aws:cloudwatch/metricAlarm:MetricAlarm":
      id = physical;
      set({ name: physical, arn: `arn:aws:cloudwatch:${region}:${account}:alarm:${physical}` });
      break;
    case "aws:cloudwatch/dashboard:Dashboard": {
      const dashboard = str("dashboardName") ?? physical;
      id = dashboard;
      set({ dashboardArn: `arn:aws:cloudwatch::${account}:dashboard/${dashboard}` });
      break;
    }
    case "aws:cloudwatch/logGroup:LogGroup":
      id = physical;
      set({ name: physical, arn: `arn:aws:logs:${region}:${account}:log-group:${physical}` });
      break;
    case "aws:sagemaker/domain:Domain": {
      const domainId = `d-${hex(urn, 12)}`;
      id = domainId;
      set({
        arn: `arn:aws:sagemaker:${region}:${account}:domain/${domainId}`,
        url: `https://${domainId}.studio.${region}.sagemaker.aws`,
        singleSignOnApplicationArn: `arn:aws:sso::${account}:application/ssoins-${hex("sso", 16)}/apl-${hex(urn, 16)}`,
        singleSignOnManagedApplicationInstanceId: `ins-${hex(urn, 16)}`,
        homeEfsFileSystemId: `fs-${hex(urn, 17)}`,
        securityGroupIdForDomainBoundary: `sg-${hex(urn, 17)}`,
      });
      break;
    }
    case "aws:sagemaker/userProfile:UserProfile": {
      const profile = str("userProfileName") ?? physical;
      id = profile;
      set({
        arn: `arn:aws:sagemaker:${region}:${account}:user-profile/${str("domainId") ?? "d-unknown"}/${profile}`,
      });
      break;
    }
    case "aws:sagemaker/image:Image": {
      const image = str("imageName") ?? physical;
      id = image;
      set({ arn: `arn:aws:sagemaker:${region}:${account}:image/${image}` });
      break;
    }
    case "aws:sagemaker/imageVersion:ImageVersion": {
      const image = str("imageName") ?? physical;
      id = image;
      set({
        version: 1,
        arn: `arn:aws:sagemaker:${region}:${account}:image-version/${image}/1`,
        imageArn: `arn:aws:sagemaker:${region}:${account}:image/${image}`,
        containerImage: str("baseImage"),
      });
      break;
    }
    case "aws:sagemaker/appImageConfig:AppImageConfig": {
      const cfg = str("appImageConfigName") ?? physical;
      id = cfg;
      set({ arn: `arn:aws:sagemaker:${region}:${account}:app-image-config/${cfg}` });
      break;
    }
    case "aws:sagemaker/pipeline:Pipeline": {
      const p = str("pipelineName") ?? physical;
      id = p;
      set({ arn: `arn:aws:sagemaker:${region}:${account}:pipeline/${p.toLowerCase()}` });
      break;
    }
    case "aws:ecr/repository:Repository":
      id = physical;
      set({
        name: physical,
        arn: `arn:aws:ecr:${region}:${account}:repository/${physical}`,
        registryId: account,
        repositoryUrl: `${account}.dkr.ecr.${region}.amazonaws.com/${physical}`,
      });
      break;
    case "aws:ssoadmin/application:Application":
    case "aws:identitystore/group:Group":
    case "aws:identitystore/user:User": {
      const gid = uuid(urn);
      id = `${str("identityStoreId") ?? "d-0000000000"}/${gid}`;
      set({ groupId: gid, userId: gid });
      break;
    }
    case "aws:ec2/securityGroup:SecurityGroup":
    case "aws:ec2/defaultSecurityGroup:DefaultSecurityGroup":
      id = `sg-${hex(urn, 17)}`;
      set({ arn: `arn:aws:ec2:${region}:${account}:security-group/${id}`, name: physical });
      break;
    case "aws:ec2/vpc:Vpc":
      id = `vpc-${hex(urn, 17)}`;
      set({ arn: `arn:aws:ec2:${region}:${account}:vpc/${id}`, ownerId: account });
      break;
    case "aws:ec2/subnet:Subnet":
      id = `subnet-${hex(urn, 17)}`;
      set({ arn: `arn:aws:ec2:${region}:${account}:subnet/${id}`, ownerId: account });
      break;
    case "aws:ec2/routeTable:RouteTable":
      id = `rtb-${hex(urn, 17)}`;
      set({ arn: `arn:aws:ec2:${region}:${account}:route-table/${id}`, ownerId: account });
      break;
    case "aws:ec2/routeTableAssociation:RouteTableAssociation":
      id = `rtbassoc-${hex(urn, 17)}`;
      break;
    case "aws:ec2/internetGateway:InternetGateway":
      id = `igw-${hex(urn, 17)}`;
      set({ arn: `arn:aws:ec2:${region}:${account}:internet-gateway/${id}`, ownerId: account });
      break;
    case "aws:ec2/eip:Eip": {
      id = `eipalloc-${hex(urn, 17)}`;
      const n = parseInt(hex(urn, 4), 16);
      set({
        allocationId: id,
        publicIp: `198.51.100.${n % 254}`,
        arn: `arn:aws:ec2:${region}:${account}:elastic-ip/${id}`,
      });
      break;
    }
    case "aws:ec2/natGateway:NatGateway":
      id = `nat-${hex(urn, 17)}`;
      set({ networkInterfaceId: `eni-${hex(urn, 17)}` });
      break;
    case "aws:ec2/vpcEndpoint:VpcEndpoint": {
      id = `vpce-${hex(urn, 17)}`;
      const gateway = str("vpcEndpointType") === "Gateway";
      set({
        arn: `arn:aws:ec2:${region}:${account}:vpc-endpoint/${id}`,
        ownerId: account,
        state: "available",
        // A gateway endpoint's service has a managed prefix list; interface endpoints have none.
        prefixListId: gateway ? `pl-${hex(str("serviceName") ?? urn, 8)}` : undefined,
      });
      break;
    }
    case "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule":
    case "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule":
      id = `sgr-${hex(urn, 17)}`;
      set({ arn: `arn:aws:ec2:${region}:${account}:security-group-rule/${id}`, securityGroupRuleId: id });
      break;
    case "docker:index/image:Image":
    case "docker:index/registryImage:RegistryImage": {
      const imageName = str("imageName") ?? str("name") ?? physical;
      const repo = imageName.replace(/:[^/:]*$/, "");
      const digest = `sha256:${hex(urn, 64)}`;
      id = `${repo}@${digest}`;
      set({ imageName, repoDigest: `${repo}@${digest}`, sha256Digest: digest, baseImageName: imageName });
      break;
    }
    default:
      if (type.startsWith("aws:")) {
        const service = type.slice(4).split("/")[0];
        const kind = (type.split(":").pop() ?? "resource").toLowerCase();
        set({ arn: `arn:aws:${service}:${region}:${account}:${kind}/${physical}` });
      }
  }
  if (state.id === undefined) state.id = id;
  return { id, state };
}

/** Answers a provider function call; unknown tokens throw, naming the token, so nothing hangs. */
export function mockCall(
  token: string,
  inputs: Record<string, unknown>,
  where: ProviderPlacement,
  options: MockCloudOptions = {},
): Record<string, unknown> {
  const account = where.account ?? fallbackAccount;
  const region = where.region ?? fallbackRegion;
  switch (token) {
    case "aws:index/getCallerIdentity:getCallerIdentity":
      return {
        id: account,
        accountId: account,
        arn: `arn:aws:sts::${account}:assumed-role/local-mode/local`,
        userId: "AROALOCALMODE:local",
      };
    case "aws:index/getRegion:getRegion": {
      const name =
        typeof inputs.region === "string"
          ? inputs.region
          : typeof inputs.name === "string"
            ? inputs.name
            : region;
      return { id: name, name, region: name, endpoint: `ec2.${name}.amazonaws.com`, description: name };
    }
    case "aws:index/getPartition:getPartition":
      return { id: "aws", partition: "aws", dnsSuffix: "amazonaws.com", reverseDnsPrefix: "com.amazonaws" };
    case "aws:index/getAvailabilityZones:getAvailabilityZones":
      return { id: region, names: ["a", "b", "c"].map((z) => region + z), zoneIds: [] };
    case "aws:ssoadmin/getInstances:getInstances": {
      const count = options.ssoInstances ?? 1;
      const ids = Array.from({ length: count }, (_, i) => i);
      return {
        id: region,
        arns: ids.map((i) => `arn:aws:sso:::instance/ssoins-${hex(`sso${i}`, 16)}`),
        identityStoreIds: ids.map((i) => `d-${hex(`store${i}`, 10)}`),
      };
    }
    case "aws:ecr/getAuthorizationToken:getAuthorizationToken": {
      const registry = typeof inputs.registryId === "string" ? inputs.registryId : account;
      return {
        id: region,
        authorizationToken: Buffer.from("AWS:local-mode-token").toString("base64"),
        userName: "AWS",
        password: "local-mode-token",
        proxyEndpoint: `https://${registry}.dkr.ecr.${region}.amazonaws.com`,
        expiresAt: "2099-01-01T00:00:00Z",
      };
    }
    case "aws:ec2/getVpc:getVpc": {
      const vpcId = `vpc-${hex(`${account}/${region}`, 17)}`;
      return {
        id: vpcId,
        arn: `arn:aws:ec2:${region}:${account}:vpc/${vpcId}`,
        cidrBlock: "172.31.0.0/16",
        default: true,
        ownerId: account,
        state: "available",
      };
    }
    case "aws:ec2/getSubnets:getSubnets":
      return { id: region, ids: ["a", "b"].map((z) => `subnet-${hex(`${account}/${region}${z}`, 17)}`) };
    case "aws:iam/getPolicyDocument:getPolicyDocument": {
      const json = JSON.stringify(policyDocument(inputs));
      return { id: hex(json, 10), json, minifiedJson: json };
    }
    default:
      throw new Error(
        `local mode's mock engine has no answer for the invoke "${token}"; add one to local/mock-cloud.ts (mockCall)`,
      );
  }
}

interface StatementInput {
  sid?: string;
  effect?: string;
  actions?: string[];
  notActions?: string[];
  resources?: string[];
  notResources?: string[];
  principals?: Array<{ type: string; identifiers: string[] }>;
  notPrincipals?: Array<{ type: string; identifiers: string[] }>;
  conditions?: Array<{ test: string; variable: string; values: string[] }>;
}

// The same document aws.iam.getPolicyDocument renders, so policies built with it can be simulated.
function policyDocument(inputs: Record<string, unknown>): Record<string, unknown> {
  const one = (xs: string[]) => (xs.length === 1 ? xs[0] : xs);
  const principals = (ps: Array<{ type: string; identifiers: string[] }>) => {
    const out: Record<string, unknown> = {};
    for (const p of ps) {
      if (p.type === "*" && p.identifiers.length === 1 && p.identifiers[0] === "*") return "*";
      const prev = out[p.type];
      const ids = [...(prev === undefined ? [] : Array.isArray(prev) ? prev : [prev]), ...p.identifiers];
      out[p.type] = one(ids);
    }
    return out;
  };
  const statements = ((inputs.statements as StatementInput[] | undefined) ?? []).map((s) => {
    const st: Record<string, unknown> = {};
    if (s.sid) st.Sid = s.sid;
    st.Effect = s.effect ?? "Allow";
    if (s.actions?.length) st.Action = one(s.actions);
    if (s.notActions?.length) st.NotAction = one(s.notActions);
    if (s.resources?.length) st.Resource = one(s.resources);
    if (s.notResources?.length) st.NotResource = one(s.notResources);
    if (s.principals?.length) st.Principal = principals(s.principals);
    if (s.notPrincipals?.length) st.NotPrincipal = principals(s.notPrincipals);
    if (s.conditions?.length) {
      const cond: Record<string, Record<string, unknown>> = {};
      for (const c of s.conditions) (cond[c.test] ??= {})[c.variable] = one(c.values);
      st.Condition = cond;
    }
    return st;
  });
  return { Version: (inputs.version as string | undefined) ?? "2012-10-17", Statement: statements };
}
