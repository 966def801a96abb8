// What the deployer must be allowed, derived per resource type from the calls the provider makes over a
// resource's life (create, read after create and on refresh, update, delete, tags), not from the create
// API alone. research/iam/deployer-policy.json (with deployer-network-policy.json for the isolated
// network) must allow every action here; test/research/
// deployer-policy.spec.ts simulates that, and fails when the plan registers a type this table lacks.
//
// Source: @pulumi/aws 7.x bridges terraform-provider-aws 6.x; each row names the provider behaviour it
// comes from. IAM action names per call: the Service Authorization Reference ("Actions defined by
// Amazon SageMaker AI", "... AWS Identity Store", "... IAM Identity Center", "... Amazon S3", "... Amazon
// ECR", "... IAM"). Where a row is not confirmed against the provider source, `confirmed` says so.

export interface ProviderActions {
  /** An ARN of the resource as this program names it; REGION, ACCOUNT_ID and NAME are filled in. */
  resource: string;
  actions: string[];
  /** Actions IAM authorises on another resource than `resource` (Service Authorization Reference). */
  actionResources?: Record<string, string>;
  /** Why these actions: the provider behaviour or the AWS rule. */
  source: string;
  /** false: derived from the API surface and the provider's usual CRUD shape, not read in its source. */
  confirmed: boolean;
}

const sm = (type: string) => `arn:aws:sagemaker:REGION:ACCOUNT_ID:${type}/NAME`;
const SAGEMAKER_TAGS = ["sagemaker:AddTags", "sagemaker:ListTags", "sagemaker:DeleteTags"];

/** Resource type token → what the provider calls for it. */
export const PROVIDER_ACTIONS: Record<string, ProviderActions> = {
  "aws:identitystore/user:User": {
    resource: "*",
    actions: [
      "identitystore:CreateUser",
      "identitystore:DescribeUser",
      "identitystore:UpdateUser",
      "identitystore:DeleteUser",
    ],
    source: "CRUD on the Identity Store API; Identity Store users carry no tags",
    confirmed: false,
  },
  "aws:identitystore/group:Group": {
    resource: "*",
    actions: [
      "identitystore:CreateGroup",
      "identitystore:DescribeGroup",
      "identitystore:UpdateGroup",
      "identitystore:DeleteGroup",
    ],
    source: "CRUD on the Identity Store API",
    confirmed: false,
  },
  "aws:identitystore/groupMembership:GroupMembership": {
    resource: "*",
    actions: [
      "identitystore:CreateGroupMembership",
      "identitystore:DescribeGroupMembership",
      "identitystore:DeleteGroupMembership",
    ],
    source:
      "terraform-provider-aws internal/service/identitystore/group_membership.go: group_id and member_id force replacement (no update); create CreateGroupMembership, then read by identity store and membership ID",
    confirmed: true,
  },
  "aws:ssoadmin/applicationAssignment:ApplicationAssignment": {
    resource: "*",
    actions: [
      "sso:CreateApplicationAssignment",
      "sso:DescribeApplicationAssignment",
      "sso:DeleteApplicationAssignment",
    ],
    source: "create, describe, delete (no update: every argument forces replacement)",
    confirmed: false,
  },
  "aws:sagemaker/domain:Domain": {
    resource: sm("domain"),
    actions: [
      "sagemaker:CreateDomain",
      "sagemaker:DescribeDomain",
      "sagemaker:UpdateDomain",
      "sagemaker:DeleteDomain",
      ...SAGEMAKER_TAGS,
      // The SSO domain's Identity Center application is created and removed with the caller's rights.
      "sso:CreateManagedApplicationInstance",
      "sso:DeleteManagedApplicationInstance",
      "sso:GetManagedApplicationInstance",
    ],
    source:
      "terraform-provider-aws internal/service/sagemaker/domain.go: CreateDomain (tags on create), then DescribeDomain until InService; update sends UpdateDomain and waits; delete passes RetentionPolicy to DeleteDomain and waits on DescribeDomain; tags by ARN (ListTags, AddTags, DeleteTags). The sso actions are SageMaker's own calls with the caller's rights, not the provider's",
    confirmed: true,
  },
  "aws:sagemaker/userProfile:UserProfile": {
    resource: "arn:aws:sagemaker:REGION:ACCOUNT_ID:user-profile/DOMAIN/NAME",
    actions: [
      "sagemaker:CreateUserProfile",
      "sagemaker:DescribeUserProfile",
      "sagemaker:UpdateUserProfile",
      "sagemaker:DeleteUserProfile",
      ...SAGEMAKER_TAGS,
    ],
    source:
      "terraform-provider-aws internal/service/sagemaker/user_profile.go: update sends UpdateUserProfile and waits for InService (DescribeUserProfile); delete DeleteUserProfile, then waits until it is gone",
    confirmed: true,
  },
  "aws:sagemaker/image:Image": {
    resource: sm("image"),
    actions: [
      "sagemaker:CreateImage",
      "sagemaker:DescribeImage",
      "sagemaker:UpdateImage",
      "sagemaker:DeleteImage",
      ...SAGEMAKER_TAGS,
      "iam:PassRole",
    ],
    source: "CreateImage takes a RoleArn, so the caller passes the role (iam:PassRole)",
    confirmed: false,
  },
  "aws:sagemaker/imageVersion:ImageVersion": {
    resource: "arn:aws:sagemaker:REGION:ACCOUNT_ID:image-version/NAME/1",
    // The version does not exist yet: CreateImageVersion is authorised on its image.
    actionResources: { "sagemaker:CreateImageVersion": sm("image") },
    actions: [
      "sagemaker:CreateImageVersion",
      "sagemaker:DescribeImageVersion",
      // Read lists the version's aliases (DescribeImageVersion does not return them), right after create.
      "sagemaker:ListAliases",
      // Aliases, release notes, vendor guidance and the like are updated in place.
      "sagemaker:UpdateImageVersion",
      "sagemaker:DeleteImageVersion",
    ],
    source:
      "terraform-provider-aws #42610 (v6.0, alias support): read calls ListAliases; update calls UpdateImageVersion",
    confirmed: true,
  },
  "aws:sagemaker/appImageConfig:AppImageConfig": {
    resource: sm("app-image-config"),
    actions: [
      "sagemaker:CreateAppImageConfig",
      "sagemaker:DescribeAppImageConfig",
      "sagemaker:UpdateAppImageConfig",
      "sagemaker:DeleteAppImageConfig",
      ...SAGEMAKER_TAGS,
    ],
    source: "CRUD on the AppImageConfig API",
    confirmed: false,
  },
  "aws:sagemaker/pipeline:Pipeline": {
    resource: sm("pipeline"),
    actions: [
      "sagemaker:CreatePipeline",
      "sagemaker:DescribePipeline",
      "sagemaker:UpdatePipeline",
      "sagemaker:DeletePipeline",
      ...SAGEMAKER_TAGS,
      "iam:PassRole",
    ],
    source: "CreatePipeline/UpdatePipeline take the pipeline's RoleArn (iam:PassRole)",
    confirmed: false,
  },
  "aws:iam/role:Role": {
    resource: "arn:aws:iam::ACCOUNT_ID:role/NAME",
    actions: [
      "iam:CreateRole",
      "iam:GetRole",
      "iam:UpdateRole",
      "iam:UpdateAssumeRolePolicy",
      "iam:TagRole",
      "iam:UntagRole",
      // Delete detaches what is attached first, so it lists policies and instance profiles.
      "iam:ListRolePolicies",
      "iam:ListAttachedRolePolicies",
      "iam:ListInstanceProfilesForRole",
      "iam:DeleteRole",
    ],
    source: "read lists inline and attached policies; delete detaches them, then DeleteRole",
    confirmed: false,
  },
  "aws:iam/rolePolicy:RolePolicy": {
    resource: "arn:aws:iam::ACCOUNT_ID:role/NAME",
    actions: ["iam:PutRolePolicy", "iam:GetRolePolicy", "iam:DeleteRolePolicy"],
    source: "put is both create and update",
    confirmed: false,
  },
  "aws:ecr/repository:Repository": {
    resource: "arn:aws:ecr:REGION:ACCOUNT_ID:repository/NAME",
    actions: [
      "ecr:CreateRepository",
      "ecr:DescribeRepositories",
      "ecr:ListTagsForResource",
      "ecr:TagResource",
      "ecr:UntagResource",
      "ecr:PutImageScanningConfiguration",
      "ecr:PutImageTagMutability",
      "ecr:DeleteRepository",
    ],
    source: "scan-on-push and tag mutability are updated with their own Put* calls",
    confirmed: false,
  },
  "aws:ecr/lifecyclePolicy:LifecyclePolicy": {
    resource: "arn:aws:ecr:REGION:ACCOUNT_ID:repository/NAME",
    actions: ["ecr:PutLifecyclePolicy", "ecr:GetLifecyclePolicy", "ecr:DeleteLifecyclePolicy"],
    source: "put is both create and update",
    confirmed: false,
  },
  "docker:index/image:Image": {
    resource: "arn:aws:ecr:REGION:ACCOUNT_ID:repository/NAME",
    actions: [
      "ecr:GetAuthorizationToken",
      "ecr:BatchCheckLayerAvailability",
      "ecr:InitiateLayerUpload",
      "ecr:UploadLayerPart",
      "ecr:CompleteLayerUpload",
      "ecr:PutImage",
      "ecr:BatchGetImage",
    ],
    source: "a docker push to ECR (the login token comes from aws.ecr.getAuthorizationToken)",
    confirmed: true,
  },
  "aws:s3/bucket:Bucket": {
    resource: "arn:aws:s3:::NAME",
    actions: [
      "s3:CreateBucket",
      "s3:ListBucket",
      // Read fetches every bucket sub-configuration: ACL, CORS, website, versioning, logging, tags...
      "s3:GetBucketAcl",
      "s3:GetBucketCORS",
      "s3:GetBucketWebsite",
      "s3:GetBucketVersioning",
      "s3:GetBucketLogging",
      "s3:GetBucketTagging",
      "s3:GetBucketObjectLockConfiguration",
      "s3:GetBucketRequestPayment",
      "s3:GetAccelerateConfiguration",
      "s3:GetLifecycleConfiguration",
      "s3:GetReplicationConfiguration",
      "s3:GetEncryptionConfiguration",
      "s3:PutBucketTagging",
      "s3:DeleteBucket",
      // forceDestroy empties the bucket, every version, before deleting it.
      "s3:ListBucketVersions",
      "s3:DeleteObject",
      "s3:DeleteObjectVersion",
    ],
    actionResources: {
      "s3:DeleteObject": "arn:aws:s3:::NAME/pegasus/output/qc_metrics.csv",
      "s3:DeleteObjectVersion": "arn:aws:s3:::NAME/pegasus/output/qc_metrics.csv",
    },
    source: "read fetches the bucket's sub-configurations; forceDestroy deletes every object version",
    confirmed: false,
  },
  "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock": {
    resource: "arn:aws:s3:::NAME",
    // DeletePublicAccessBlock is authorised by s3:PutBucketPublicAccessBlock.
    actions: ["s3:PutBucketPublicAccessBlock", "s3:GetBucketPublicAccessBlock"],
    source: "put, get; delete needs the put permission (S3 API reference, DeletePublicAccessBlock)",
    confirmed: false,
  },
  "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration": {
    resource: "arn:aws:s3:::NAME",
    actions: ["s3:PutEncryptionConfiguration", "s3:GetEncryptionConfiguration"],
    source: "put, get; DeleteBucketEncryption needs s3:PutEncryptionConfiguration",
    confirmed: false,
  },
  "aws:s3/bucketOwnershipControls:BucketOwnershipControls": {
    resource: "arn:aws:s3:::NAME",
    actions: ["s3:PutBucketOwnershipControls", "s3:GetBucketOwnershipControls"],
    source: "put, get; DeleteBucketOwnershipControls needs s3:PutBucketOwnershipControls",
    confirmed: false,
  },
  "aws:s3/bucketPolicy:BucketPolicy": {
    resource: "arn:aws:s3:::NAME",
    actions: ["s3:PutBucketPolicy", "s3:GetBucketPolicy", "s3:DeleteBucketPolicy"],
    source: "put, get, delete",
    confirmed: false,
  },
  "aws:s3/bucketObjectv2:BucketObjectv2": {
    resource: "arn:aws:s3:::NAME/code/key",
    actions: [
      "s3:PutObject",
      "s3:GetObject",
      "s3:GetObjectTagging",
      "s3:PutObjectTagging",
      "s3:DeleteObject",
      "s3:DeleteObjectVersion",
    ],
    source: "put, head and tags on read; delete removes every version of the key",
    confirmed: false,
  },
  // The isolated network (fieldnotes:research.network), granted by research/iam/deployer-network-policy.json.
  // EC2 tags are written on create through TagSpecifications, which IAM authorises as ec2:CreateTags.
  "aws:ec2/vpc:Vpc": {
    resource: "*",
    actions: [
      "ec2:CreateVpc",
      "ec2:DescribeVpcs",
      // Read: the DNS and address-usage attributes, one call each, and the VPC's defaults.
      "ec2:DescribeVpcAttribute",
      "ec2:DescribeNetworkAcls",
      "ec2:DescribeRouteTables",
      "ec2:DescribeSecurityGroups",
      // DNS hostnames are off on a new VPC; the provider turns them on after create.
      "ec2:ModifyVpcAttribute",
      "ec2:CreateTags",
      "ec2:DeleteTags",
      "ec2:DeleteVpc",
    ],
    source:
      "terraform-provider-aws internal/service/ec2/vpc_.go: read calls DescribeVpcAttribute per attribute and looks up the default NACL, main route table and default security group; create/update call ModifyVpcAttribute; delete retries DeleteVpc on DependencyViolation",
    confirmed: true,
  },
  "aws:ec2/defaultSecurityGroup:DefaultSecurityGroup": {
    resource: "*",
    actions: [
      "ec2:DescribeSecurityGroups",
      "ec2:RevokeSecurityGroupIngress",
      "ec2:RevokeSecurityGroupEgress",
      "ec2:CreateTags",
      "ec2:DeleteTags",
    ],
    source: "adopts the VPC's default group and revokes its rules; delete only forgets it",
    confirmed: false,
  },
  "aws:ec2/subnet:Subnet": {
    resource: "*",
    actions: [
      "ec2:CreateSubnet",
      "ec2:DescribeSubnets",
      "ec2:ModifySubnetAttribute",
      "ec2:CreateTags",
      "ec2:DeleteTags",
      // Delete first removes network interfaces left behind by other services, then the subnet.
      "ec2:DescribeNetworkInterfaces",
      "ec2:DeleteNetworkInterface",
      "ec2:DeleteSubnet",
    ],
    source: "create, describe, attribute updates; delete cleans up lingering ENIs before DeleteSubnet",
    confirmed: false,
  },
  "aws:ec2/routeTable:RouteTable": {
    resource: "*",
    actions: [
      "ec2:CreateRouteTable",
      "ec2:DescribeRouteTables",
      "ec2:CreateTags",
      "ec2:DeleteTags",
      "ec2:DeleteRouteTable",
    ],
    source: "a route table with no routes of its own: create, describe, delete",
    confirmed: false,
  },
  "aws:ec2/routeTableAssociation:RouteTableAssociation": {
    resource: "*",
    actions: [
      "ec2:AssociateRouteTable",
      "ec2:DescribeRouteTables",
      "ec2:ReplaceRouteTableAssociation",
      "ec2:DisassociateRouteTable",
    ],
    source: "associate, read through the table's associations, replace on update, disassociate",
    confirmed: false,
  },
  "aws:ec2/securityGroup:SecurityGroup": {
    resource: "*",
    actions: [
      "ec2:CreateSecurityGroup",
      "ec2:DescribeSecurityGroups",
      // Create revokes the allow-all egress AWS adds; revokeRulesOnDelete revokes every rule first.
      "ec2:RevokeSecurityGroupEgress",
      "ec2:RevokeSecurityGroupIngress",
      "ec2:CreateTags",
      "ec2:DeleteTags",
      "ec2:DescribeNetworkInterfaces",
      "ec2:DeleteSecurityGroup",
    ],
    source:
      "create drops the default egress rule; delete with revoke_rules_on_delete revokes the rules, then retries on DependencyViolation",
    confirmed: false,
  },
  "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule": {
    resource: "*",
    actions: [
      "ec2:AuthorizeSecurityGroupIngress",
      "ec2:DescribeSecurityGroupRules",
      "ec2:ModifySecurityGroupRules",
      "ec2:CreateTags",
      "ec2:RevokeSecurityGroupIngress",
    ],
    source: "one rule per resource, read by its rule ID, updated in place",
    confirmed: false,
  },
  "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule": {
    resource: "*",
    actions: [
      "ec2:AuthorizeSecurityGroupEgress",
      "ec2:DescribeSecurityGroupRules",
      "ec2:ModifySecurityGroupRules",
      "ec2:CreateTags",
      "ec2:RevokeSecurityGroupEgress",
    ],
    source: "one rule per resource, read by its rule ID, updated in place",
    confirmed: false,
  },
  "aws:ec2/vpcEndpoint:VpcEndpoint": {
    resource: "*",
    actions: [
      "ec2:CreateVpcEndpoint",
      "ec2:DescribeVpcEndpoints",
      // Read: the service's prefix list (a gateway endpoint's prefixListId) and the endpoint's ENIs.
      "ec2:DescribePrefixLists",
      "ec2:DescribeNetworkInterfaces",
      "ec2:ModifyVpcEndpoint",
      "ec2:CreateTags",
      "ec2:DeleteTags",
      "ec2:DeleteVpcEndpoints",
      // Private DNS: EC2 creates the endpoint's private hosted zone on the caller's behalf.
      "route53:AssociateVPCWithHostedZone",
    ],
    source:
      "terraform-provider-aws internal/service/ec2/vpc_endpoint.go: read calls DescribePrefixLists by service name and DescribeNetworkInterfaces per endpoint ENI; update ModifyVpcEndpoint; delete DeleteVpcEndpoints",
    confirmed: true,
  },
  // Only with natGateways > 0.
  "aws:ec2/internetGateway:InternetGateway": {
    resource: "*",
    actions: [
      "ec2:CreateInternetGateway",
      "ec2:AttachInternetGateway",
      "ec2:DescribeInternetGateways",
      "ec2:CreateTags",
      "ec2:DeleteTags",
      "ec2:DetachInternetGateway",
      "ec2:DeleteInternetGateway",
    ],
    source: "create then attach to the VPC; delete detaches first",
    confirmed: false,
  },
  "aws:ec2/eip:Eip": {
    resource: "*",
    actions: [
      "ec2:AllocateAddress",
      "ec2:DescribeAddresses",
      "ec2:DescribeAddressesAttribute",
      "ec2:CreateTags",
      "ec2:DeleteTags",
      "ec2:DisassociateAddress",
      "ec2:ReleaseAddress",
    ],
    source: "allocate, describe (and the address's attributes), release; disassociates first when associated",
    confirmed: false,
  },
  "aws:ec2/natGateway:NatGateway": {
    resource: "*",
    actions: [
      "ec2:CreateNatGateway",
      "ec2:DescribeNatGateways",
      "ec2:CreateTags",
      "ec2:DeleteTags",
      "ec2:DeleteNatGateway",
    ],
    source: "create and wait until available; delete and wait until deleted",
    confirmed: false,
  },
  "aws:ec2/route:Route": {
    resource: "*",
    actions: ["ec2:CreateRoute", "ec2:DescribeRouteTables", "ec2:ReplaceRoute", "ec2:DeleteRoute"],
    source: "a route is read back from its route table",
    confirmed: false,
  },
};

/** Lookups (invokes) the program makes at plan time, with what each needs. */
export const PROVIDER_INVOKE_ACTIONS: Record<string, ProviderActions> = {
  "aws:ssoadmin/getInstances:getInstances": {
    resource: "*",
    actions: ["sso:ListInstances"],
    source: "lists the Identity Center instances",
    confirmed: true,
  },
  "aws:ec2/getVpc:getVpc": {
    resource: "*",
    actions: ["ec2:DescribeVpcs"],
    source: "the default VPC",
    confirmed: true,
  },
  "aws:ec2/getSubnets:getSubnets": {
    resource: "*",
    actions: ["ec2:DescribeSubnets"],
    source: "its default subnets",
    confirmed: true,
  },
  "aws:index/getAvailabilityZones:getAvailabilityZones": {
    resource: "*",
    actions: ["ec2:DescribeAvailabilityZones"],
    source: "the zones of the isolated network",
    confirmed: true,
  },
  "aws:ecr/getAuthorizationToken:getAuthorizationToken": {
    resource: "*",
    actions: ["ecr:GetAuthorizationToken"],
    source: "the docker login token",
    confirmed: true,
  },
};
