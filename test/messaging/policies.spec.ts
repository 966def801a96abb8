import { strict as assert } from "assert";
import { snsServicePrincipal } from "../../common/regions";
import { loadStackConfig } from "../../local/stack-config";
import {
  PublisherNames,
  publisherNames,
  ReplicaNames,
  replicaNames,
  SubscriberNames,
  subscriberNames,
} from "../../messaging/naming";
import * as policies from "../../messaging/policies";
import { MessagingTopology, parseTopology } from "../../messaging/topology";
import { ADMIN, ALL, Policy, simulate } from "./simulation";

// The policy builders called in this process with the project's own topologies (the production
// stacks' accounts and Regions, the one-account dev stack) and variations of them, and what they
// return simulated as AWS would decide. policy-simulation.spec.ts simulates the documents the
// planned program registers; this spec runs the builders themselves, so that mutation testing
// (docs/mutation.md) sees every line of messaging/policies.ts decide a request.

const OUTSIDER = "444444444444";
const PRODUCER = "555555555555";

type Editable = {
  publisher: Record<string, unknown>;
  subscribers: Record<string, unknown>[];
  offload: Record<string, unknown>;
  [key: string]: unknown;
};

/** A stack's topology as the program reads it (project config, stack file, sandbox account), changed by `change`. */
function topologyOf(stack: string, change: (t: Editable) => void = () => {}): MessagingTopology {
  const { config } = loadStackConfig(stack);
  const raw = JSON.parse(config["fieldnotes:topology"]) as Editable;
  change(raw);
  return parseTopology(raw, { sandboxAccount: config["fieldnotes:sandboxAccount"] });
}

interface System {
  topology: MessagingTopology;
  pub: PublisherNames;
  b: SubscriberNames;
  c: SubscriberNames;
  subs: SubscriberNames[];
  producers: policies.Producer[];
}

function system(stack = "a-use1", change?: (t: Editable) => void): System {
  const topology = topologyOf(stack, change);
  const subs = topology.subscribers.map((s) => subscriberNames(topology, s));
  const [b, c] = subs;
  return {
    topology,
    pub: publisherNames(topology),
    b,
    c,
    subs,
    producers: policies.parseProducers(topology.publisher.producers),
  };
}

/** Every list of a statement, with where it is. */
function lists(value: unknown, at: string): [string, unknown[]][] {
  if (Array.isArray(value)) return [[at, value], ...value.flatMap((v, i) => lists(v, `${at}[${i}]`))];
  if (typeof value === "object" && value !== null)
    return Object.entries(value).flatMap(([k, v]) => lists(v, `${at}.${k}`));
  return [];
}

/**
 * A document as the components register it (JSON), after checking what AWS's policy grammar asks of
 * it (IAM JSON policy element reference): each statement has a Sid of letters and digits, unique in
 * its document (which the specs also find statements by); every list (principals, actions,
 * resources, condition values) holds at least one value; an AWS principal is an account's root or an
 * IAM role or user ARN.
 */
function built(document: policies.PolicyDocument): Policy {
  assert.equal(document.Version, "2012-10-17");
  const sids = document.Statement.map((s) => s.Sid);
  for (const sid of sids) assert.match(sid, /^[A-Za-z0-9]+$/, `Sid ${JSON.stringify(sid)}`);
  assert.equal(new Set(sids).size, sids.length, `duplicate Sid among ${sids.join(", ")}`);
  document.Statement.forEach((statement) => {
    for (const [at, list] of lists(statement, statement.Sid))
      assert.ok(list.length > 0, `${at} is an empty list`);
    const principal = statement.Principal;
    const aws = typeof principal === "object" ? [principal.AWS ?? []].flat() : [];
    for (const arn of aws)
      assert.match(arn, /^arn:aws:iam::\d{12}:(root|role\/\S+|user\/\S+)$/, `${statement.Sid} principal`);
  });
  return JSON.parse(JSON.stringify(document));
}

const role = (account: string, name: string) => `arn:aws:iam::${account}:role/${name}`;

/** The identity policy of subscriber `sub`'s consumer role, as its stack builds it. */
function consumerPolicy(s: System, sub: SubscriberNames, kms = s.topology.offload.kms): Policy {
  const topo = s.topology.subscribers[s.subs.indexOf(sub)];
  return built(
    policies.subscriberRolePolicy(s.pub, sub, {
      kms,
      downstream: topo.downstream,
      replica: topo.replica ? replicaNames(s.topology, topo.region) : undefined,
    }),
  );
}

function publisherPolicy(s: System, opts: { payloadKeyArn?: string } = {}): Policy {
  return built(
    policies.publisherRolePolicy(s.pub, {
      topicKeyArn: `arn:aws:kms:${s.pub.region}:${s.pub.account}:key/topic`,
      payloadKeyArn: opts.payloadKeyArn,
      extraSources: s.topology.publisher.extraSources,
    }),
  );
}

describe("policy builders, simulated in process", function () {
  this.timeout(30_000);

  describe("payload bucket", () => {
    let prod: System, bucketPolicy: Policy;
    beforeEach(() => {
      prod = system();
      bucketPolicy = built(policies.payloadBucketPolicy(prod.pub, prod.subs, prod.producers));
    });
    const s3 = (
      principal: string,
      identity: Policy[],
      action: string,
      key: string,
      context?: Record<string, string>,
      policy = bucketPolicy,
      s = prod,
    ) =>
      simulate({
        principal,
        identity,
        action,
        resource: key === "" ? s.pub.bucketArn : `${s.pub.bucketArn}/${key}`,
        resourceAccount: s.pub.account,
        resourcePolicy: policy,
        context,
      });

    it("subscriber roles of other accounts read payloads/ (object and checksum tag) and nothing else", async () => {
      for (const sub of [prod.b, prod.c]) {
        const id = [consumerPolicy(prod, sub)];
        assert.equal(await s3(sub.roleArn, id, "s3:GetObject", "payloads/3f1c"), "Allowed", sub.role);
        assert.equal(await s3(sub.roleArn, id, "s3:GetObjectTagging", "payloads/3f1c"), "Allowed", sub.role);
        assert.notEqual(await s3(sub.roleArn, id, "s3:GetObject", "incoming/up-1"), "Allowed", sub.role);
        assert.notEqual(await s3(sub.roleArn, id, "s3:GetObject", "payloadsx/3f1c"), "Allowed", sub.role);
        assert.equal(await s3(sub.roleArn, id, "s3:PutObject", "payloads/3f1c"), "ExplicitlyDenied");
        assert.notEqual(await s3(sub.roleArn, id, "s3:DeleteObject", "payloads/3f1c"), "Allowed");
        // Not even with s3:* in its own policy: the bucket policy names the reading actions, and
        // the listing of payloads/, only.
        const wide = [ALL("s3:*")];
        assert.notEqual(await s3(sub.roleArn, wide, "s3:DeleteObject", "payloads/3f1c"), "Allowed");
        assert.notEqual(await s3(sub.roleArn, wide, "s3:GetObject", "incoming/up-1"), "Allowed");
        assert.notEqual(
          await s3(sub.roleArn, wide, "s3:ListBucket", "", { "s3:prefix": "incoming/" }),
          "Allowed",
        );
        assert.equal(
          await s3(sub.roleArn, wide, "s3:ListBucket", "", { "s3:prefix": "payloads/" }),
          "Allowed",
        );
      }
    });

    it("subscriber roles list only under payloads/, so an expired payload answers 404", async () => {
      for (const sub of [prod.b, prod.c]) {
        const id = [consumerPolicy(prod, sub)];
        const list = (prefix?: string) =>
          s3(sub.roleArn, id, "s3:ListBucket", "", prefix === undefined ? {} : { "s3:prefix": prefix });
        assert.equal(await list("payloads/3f1c"), "Allowed", sub.role);
        assert.equal(await list("payloads/"), "Allowed", sub.role);
        assert.notEqual(await list("incoming/"), "Allowed", sub.role);
        assert.notEqual(await list(""), "Allowed", sub.role);
        assert.notEqual(await list(), "Allowed", sub.role);
      }
    });

    it("another role of a subscriber account, or any role of an unlisted account, reads nothing", async () => {
      for (const principal of [role(prod.b.account, "someone-else"), role(OUTSIDER, prod.b.role)]) {
        assert.notEqual(await s3(principal, [ALL("s3:*")], "s3:GetObject", "payloads/3f1c"), "Allowed");
        assert.notEqual(
          await s3(principal, [ALL("s3:*")], "s3:ListBucket", "", { "s3:prefix": "payloads/" }),
          "Allowed",
        );
      }
    });

    it("only the publisher role writes payloads/: an administrator of the bucket's account is denied every write", async () => {
      const id = [publisherPolicy(prod)];
      const admin = role(prod.pub.account, "admin");
      for (const action of ["s3:PutObject", "s3:PutObjectTagging", "s3:AbortMultipartUpload"]) {
        assert.equal(await s3(prod.pub.roleArn, id, action, "payloads/3f1c"), "Allowed", action);
        assert.equal(await s3(admin, [ADMIN], action, "payloads/3f1c"), "ExplicitlyDenied", action);
      }
      // Outside payloads/ the bucket policy leaves the account's own identities alone.
      assert.equal(await s3(admin, [ADMIN], "s3:PutObject", "incoming/up-1"), "Allowed");
      assert.notEqual(await s3(prod.pub.roleArn, id, "s3:PutObject", "incoming/up-1"), "Allowed");
    });

    it("every request without TLS is denied, on the bucket and its objects", async () => {
      const noTls = { "aws:SecureTransport": "false" };
      const id = [consumerPolicy(prod, prod.b)];
      assert.equal(await s3(prod.b.roleArn, id, "s3:GetObject", "payloads/3f1c", noTls), "ExplicitlyDenied");
      assert.equal(
        await s3(prod.b.roleArn, id, "s3:ListBucket", "", { ...noTls, "s3:prefix": "payloads/" }),
        "ExplicitlyDenied",
      );
      assert.equal(
        await s3(role(prod.pub.account, "admin"), [ADMIN], "s3:GetObject", "incoming/x", noTls),
        "ExplicitlyDenied",
      );
    });

    it("producers (accounts and single roles or users) stage sources under incoming/ only", async () => {
      const uploader = `arn:aws:iam::${OUTSIDER}:role/teams/uploader`;
      const ci = `arn:aws:iam::${OUTSIDER}:user/ci`;
      const s = system("a-use1", (t) => {
        t.publisher.producers = [prod.pub.account, PRODUCER, uploader, ci];
      });
      assert.deepEqual(s.producers, [
        { account: prod.pub.account },
        { account: PRODUCER },
        { account: OUTSIDER, principalArn: uploader },
        { account: OUTSIDER, principalArn: ci },
      ]);
      const policy = built(policies.payloadBucketPolicy(s.pub, s.subs, s.producers));
      const put = (principal: string, key: string) =>
        s3(principal, [ALL("s3:*")], "s3:PutObject", key, {}, policy, s);
      for (const principal of [role(PRODUCER, "any"), uploader, ci])
        assert.equal(await put(principal, "incoming/up-1"), "Allowed", principal);
      assert.notEqual(await put(role(OUTSIDER, "someone-else"), "incoming/up-1"), "Allowed");
      assert.notEqual(await put(`arn:aws:iam::${OUTSIDER}:user/other`, "incoming/up-1"), "Allowed");
      assert.notEqual(await put(role(prod.b.account, "any"), "incoming/up-1"), "Allowed");
      assert.equal(await put(role(PRODUCER, "any"), "payloads/forged"), "ExplicitlyDenied");
      assert.notEqual(await put(role(PRODUCER, "any"), "elsewhere/up-1"), "Allowed");
      assert.notEqual(
        await s3(uploader, [ALL("s3:*")], "s3:GetObject", "incoming/up-1", {}, policy, s),
        "Allowed",
      );
    });

    it("producers given only as roles admit no other identity of their accounts", async () => {
      const uploader = role(PRODUCER, "uploader");
      const s = system("a-use1", (t) => {
        t.publisher.producers = [uploader];
      });
      const policy = built(policies.payloadBucketPolicy(s.pub, s.subs, s.producers));
      const put = (principal: string) =>
        s3(principal, [ALL("s3:*")], "s3:PutObject", "incoming/up-1", {}, policy, s);
      assert.equal(await put(uploader), "Allowed");
      assert.notEqual(await put(role(PRODUCER, "other")), "Allowed");
      const bus = built(policies.eventBusPolicy(s.pub.busArn, s.producers));
      assert.equal(
        await simulate({
          principal: role(PRODUCER, "other"),
          identity: [ALL("events:*")],
          action: "events:PutEvents",
          resource: s.pub.busArn,
          resourceAccount: s.pub.account,
          resourcePolicy: bus,
        }),
        "ImplicitlyDenied",
      );
    });

    it("in one account (dev stack), each consumer role's own policy scopes it to payloads/ of its buckets", async () => {
      const dev = system("dev");
      assert.equal(new Set([dev.pub.account, dev.b.account, dev.c.account]).size, 1);
      const policy = built(policies.payloadBucketPolicy(dev.pub, dev.subs, dev.producers));
      for (const sub of [dev.b, dev.c]) {
        const id = [consumerPolicy(dev, sub)];
        const act = (action: string, key: string, context?: Record<string, string>) =>
          s3(sub.roleArn, id, action, key, context, policy, dev);
        assert.equal(await act("s3:GetObject", "payloads/3f1c"), "Allowed", sub.role);
        assert.equal(await act("s3:GetObjectTagging", "payloads/3f1c"), "Allowed", sub.role);
        assert.notEqual(await act("s3:GetObject", "incoming/up-1"), "Allowed", sub.role);
        assert.equal(await act("s3:ListBucket", "", { "s3:prefix": "payloads/x" }), "Allowed", sub.role);
        assert.notEqual(await act("s3:ListBucket", "", { "s3:prefix": "incoming/" }), "Allowed", sub.role);
        assert.equal(await act("s3:PutObject", "payloads/3f1c"), "ExplicitlyDenied", sub.role);
        assert.notEqual(await act("s3:DeleteObject", "payloads/3f1c"), "Allowed", sub.role);
        const other = `arn:aws:s3:::another-bucket-${dev.pub.account}`;
        for (const resource of [`${other}/payloads/3f1c`, other])
          assert.notEqual(
            await simulate({
              principal: sub.roleArn,
              identity: id,
              action: resource === other ? "s3:ListBucket" : "s3:GetObject",
              resource,
              resourceAccount: dev.pub.account,
              context: { "s3:prefix": "payloads/" },
            }),
            "Allowed",
            resource,
          );
      }
    });
  });

  describe("topic", () => {
    let prod: System, topicPolicy: Policy;
    beforeEach(() => {
      prod = system();
      topicPolicy = built(policies.topicPolicy(prod.pub, prod.subs));
    });
    const subscribe = (principal: string, protocol: string, endpoint: string, identity = [ALL("sns:*")]) =>
      simulate({
        principal,
        identity,
        action: "sns:Subscribe",
        resource: prod.pub.topicArn,
        resourceAccount: prod.pub.account,
        resourcePolicy: topicPolicy,
        context: { "sns:Protocol": protocol, "sns:Endpoint": endpoint },
      });
    const deployer = (account: string) => role(account, "deployer");

    it("each subscriber account subscribes its own endpoint with its own protocol, and nothing else", async () => {
      assert.equal(prod.b.protocol, "sqs");
      assert.equal(prod.c.protocol, "lambda");
      assert.equal(await subscribe(deployer(prod.b.account), "sqs", prod.b.queueArn), "Allowed");
      assert.equal(await subscribe(deployer(prod.c.account), "lambda", prod.c.functionArn), "Allowed");
      // Another listed endpoint, or its own endpoint with the other allowed protocol.
      assert.notEqual(await subscribe(deployer(prod.b.account), "lambda", prod.c.functionArn), "Allowed");
      assert.notEqual(await subscribe(deployer(prod.c.account), "sqs", prod.b.queueArn), "Allowed");
      assert.notEqual(await subscribe(deployer(prod.b.account), "lambda", prod.b.queueArn), "Allowed");
      assert.notEqual(
        await subscribe(deployer(prod.b.account), "sqs", `arn:aws:sqs:us-west-2:${prod.b.account}:other`),
        "Allowed",
      );
      assert.notEqual(
        await subscribe(deployer(OUTSIDER), "sqs", `arn:aws:sqs:us-east-1:${OUTSIDER}:q`),
        "Allowed",
      );
    });

    it("an administrator of the topic's account subscribes only the topology's endpoints, with sqs or lambda", async () => {
      const admin = (protocol: string, endpoint: string) =>
        subscribe(role(prod.pub.account, "admin"), protocol, endpoint, [ADMIN]);
      for (const [protocol, endpoint] of [
        ["https", "https://attacker.example/hook"],
        ["email", "attacker@example.com"],
        ["sqs", `arn:aws:sqs:us-east-1:${prod.pub.account}:copy-of-everything`],
        ["lambda", `arn:aws:lambda:us-east-1:${prod.pub.account}:function:copy`],
        ["https", prod.b.queueArn],
        ["application", prod.c.functionArn],
      ])
        assert.equal(await admin(protocol, endpoint), "ExplicitlyDenied", `${protocol} ${endpoint}`);
      assert.equal(await admin("sqs", prod.b.queueArn), "Allowed");
      assert.equal(await admin("lambda", prod.c.functionArn), "Allowed");
    });

    it("only the publisher role publishes, whatever other identities of its account are granted", async () => {
      const publish = (principal: string, identity: Policy[], context?: Record<string, string>) =>
        simulate({
          principal,
          identity,
          action: "sns:Publish",
          resource: prod.pub.topicArn,
          resourceAccount: prod.pub.account,
          resourcePolicy: topicPolicy,
          context,
        });
      assert.equal(await publish(prod.pub.roleArn, [publisherPolicy(prod)]), "Allowed");
      assert.equal(await publish(role(prod.pub.account, "admin"), [ADMIN]), "ExplicitlyDenied");
      assert.equal(await publish(`arn:aws:iam::${prod.pub.account}:user/ops`, [ADMIN]), "ExplicitlyDenied");
      assert.notEqual(await publish(prod.b.roleArn, [ADMIN]), "Allowed");
      assert.notEqual(await publish(role(OUTSIDER, prod.pub.role), [ADMIN]), "Allowed");
    });
  });

  describe("SNS-fed queues", () => {
    let prod: System;
    beforeEach(() => {
      prod = system();
    });
    const send = (
      policy: Policy,
      principal: string,
      identity: Policy[] = [],
      context: Record<string, string> = {},
      queue = prod.b.queueArn,
    ) =>
      simulate({
        principal,
        identity,
        action: "sqs:SendMessage",
        resource: queue,
        resourceAccount: queue.split(":")[4],
        resourcePolicy: policy,
        context,
      });

    it("take messages from SNS for the topic only; nobody of the queue's account sends, not even its administrators", async () => {
      const policy = built(
        policies.snsDeliveryQueuePolicy(prod.b.queueArn, prod.pub.topicArn, {
          snsPrincipal: "sns.amazonaws.com",
        }),
      );
      const sns = (sourceArn: string, tls = "true") =>
        send(policy, "sns.amazonaws.com", [], { "aws:SourceArn": sourceArn, "aws:SecureTransport": tls });
      assert.equal(await sns(prod.pub.topicArn), "Allowed");
      assert.notEqual(await sns(`arn:aws:sns:us-east-1:${OUTSIDER}:${prod.pub.topic}`), "Allowed");
      assert.notEqual(await sns(`arn:aws:sns:us-east-1:${prod.pub.account}:another-topic`), "Allowed");
      assert.equal(await sns(prod.pub.topicArn, "false"), "ExplicitlyDenied");
      assert.equal(await send(policy, role(prod.b.account, "admin"), [ADMIN]), "ExplicitlyDenied");
      assert.equal(
        await send(policy, prod.b.roleArn, [consumerPolicy(prod, prod.b), ADMIN]),
        "ExplicitlyDenied",
      );
      // The consumer still receives; without TLS nothing at all is allowed on the queue.
      const receive = (tls: string) =>
        simulate({
          principal: prod.b.roleArn,
          identity: [consumerPolicy(prod, prod.b)],
          action: "sqs:ReceiveMessage",
          resource: prod.b.queueArn,
          resourceAccount: prod.b.account,
          resourcePolicy: policy,
          context: { "aws:SecureTransport": tls },
        });
      assert.equal(await receive("true"), "Allowed");
      assert.equal(await receive("false"), "ExplicitlyDenied");
    });

    it("a listed redrive role sends too (StartMessageMoveTask sends as its caller); other identities still may not", async () => {
      const redrive = role(prod.b.account, "ops/dlq-redrive");
      const s = system("a-use1", (t) => {
        t.subscribers[0].redriveRoles = [redrive];
      });
      assert.deepEqual(s.topology.subscribers[0].redriveRoles, [redrive]);
      const policy = built(
        policies.snsDeliveryQueuePolicy(s.b.queueArn, s.pub.topicArn, {
          snsPrincipal: "sns.amazonaws.com",
          redriveRoles: s.topology.subscribers[0].redriveRoles,
        }),
      );
      assert.equal(await send(policy, redrive, [ADMIN]), "Allowed");
      assert.equal(await send(policy, redrive, []), "ImplicitlyDenied", "the role still needs its own grant");
      assert.equal(await send(policy, role(prod.b.account, "admin"), [ADMIN]), "ExplicitlyDenied");
      assert.equal(
        await send(policy, "sns.amazonaws.com", [], { "aws:SourceArn": s.pub.topicArn }),
        "Allowed",
      );
      assert.notEqual(
        await send(policy, "sns.amazonaws.com", [], {
          "aws:SourceArn": `arn:aws:sns:us-east-1:${OUTSIDER}:t`,
        }),
        "Allowed",
      );
      assert.equal(
        await send(policy, redrive, [ADMIN], { "aws:SecureTransport": "false" }),
        "ExplicitlyDenied",
      );
    });

    it("a topic in an opt-in Region delivers to another Region only through that Region's SNS principal", async () => {
      const s = system("a-use1", (t) => {
        t.publisher.region = "af-south-1";
        t.subscribers[0].replica = false;
        t.subscribers[1].region = "af-south-1";
      });
      const principal = snsServicePrincipal(s.pub.region, s.b.region);
      assert.equal(principal, "sns.af-south-1.amazonaws.com");
      const policy = built(
        policies.snsDeliveryQueuePolicy(s.b.queueArn, s.pub.topicArn, { snsPrincipal: principal }),
      );
      const context = { "aws:SourceArn": s.pub.topicArn };
      assert.equal(await send(policy, principal, [], context, s.b.queueArn), "Allowed");
      assert.notEqual(await send(policy, "sns.amazonaws.com", [], context, s.b.queueArn), "Allowed");
      // The subscription DLQ is in the topic's Region: there the global principal delivers.
      const dlqPolicy = built(
        policies.snsDeliveryQueuePolicy(s.b.deliveryDlqArn, s.pub.topicArn, {
          snsPrincipal: snsServicePrincipal(s.pub.region, s.pub.region),
        }),
      );
      assert.equal(await send(dlqPolicy, "sns.amazonaws.com", [], context, s.b.deliveryDlqArn), "Allowed");
    });
  });

  describe("the publisher's failure queue and event bus", () => {
    let prod: System;
    beforeEach(() => {
      prod = system();
    });

    it("the rule's DLQ takes failed events from EventBridge for the publisher's rule only", async () => {
      const policy = built(policies.ruleDlqPolicy(prod.pub.failureQueueArn, prod.pub.ruleArn));
      const send = (principal: string, sourceArn: string, tls = "true") =>
        simulate({
          principal,
          identity: [],
          action: "sqs:SendMessage",
          resource: prod.pub.failureQueueArn,
          resourceAccount: prod.pub.account,
          resourcePolicy: policy,
          context: { "aws:SourceArn": sourceArn, "aws:SecureTransport": tls },
        });
      assert.equal(await send("events.amazonaws.com", prod.pub.ruleArn), "Allowed");
      assert.notEqual(
        await send("events.amazonaws.com", prod.pub.ruleArn.replace(/rule\/(.*)\/.*$/, "rule/$1/other")),
        "Allowed",
      );
      assert.notEqual(
        await send("events.amazonaws.com", prod.pub.ruleArn.replace(prod.pub.account, OUTSIDER)),
        "Allowed",
      );
      assert.notEqual(await send("sns.amazonaws.com", prod.pub.ruleArn), "Allowed");
      assert.equal(await send("events.amazonaws.com", prod.pub.ruleArn, "false"), "ExplicitlyDenied");
      // The publisher function's on-failure destination sends as the function's role.
      assert.equal(
        await simulate({
          principal: prod.pub.roleArn,
          identity: [publisherPolicy(prod)],
          action: "sqs:SendMessage",
          resource: prod.pub.failureQueueArn,
          resourceAccount: prod.pub.account,
          resourcePolicy: policy,
        }),
        "Allowed",
      );
    });

    it("the bus takes events from the producers only (by default the publisher's account)", async () => {
      const put = (s: System, principal: string) =>
        simulate({
          principal,
          identity: [ALL("events:*")],
          action: "events:PutEvents",
          resource: s.pub.busArn,
          resourceAccount: s.pub.account,
          resourcePolicy: built(policies.eventBusPolicy(s.pub.busArn, s.producers)),
        });
      assert.deepEqual(prod.producers, [{ account: prod.pub.account }]);
      assert.equal(await put(prod, role(prod.pub.account, "producer")), "Allowed");
      assert.notEqual(await put(prod, role(prod.b.account, "producer")), "Allowed");
      const uploader = role(OUTSIDER, "uploader");
      const s = system("a-use1", (t) => {
        t.publisher.producers = [PRODUCER, uploader];
      });
      assert.equal(await put(s, role(PRODUCER, "any")), "Allowed");
      assert.equal(await put(s, uploader), "Allowed");
      assert.notEqual(await put(s, role(OUTSIDER, "other")), "Allowed");
      assert.notEqual(await put(s, role(prod.b.account, "producer")), "Allowed");
    });
  });

  describe("publisher role", () => {
    it("writes payloads/, copies only from incoming/ and the configured sources, publishes, reports, logs", async () => {
      const s = system("a-use1", (t) => {
        t.publisher.extraSources = ["shared-exports/daily/", "archive-bucket/"];
      });
      const id = [publisherPolicy(s, { payloadKeyArn: `arn:aws:kms:us-east-1:${s.pub.account}:key/p` })];
      const act = (
        action: string,
        resource: string,
        context?: Record<string, string>,
        resourcePolicy?: Policy,
      ) =>
        simulate({
          principal: s.pub.roleArn,
          identity: id,
          action,
          resource,
          resourceAccount: s.pub.account,
          context,
          resourcePolicy,
        });
      const own = s.pub.bucketArn;
      for (const action of ["s3:PutObject", "s3:PutObjectTagging", "s3:AbortMultipartUpload"]) {
        assert.equal(await act(action, `${own}/payloads/3f1c`), "Allowed", action);
        assert.notEqual(await act(action, `${own}/incoming/3f1c`), "Allowed", action);
      }
      for (const action of ["s3:GetObject", "s3:GetObjectTagging"]) {
        assert.equal(await act(action, `${own}/incoming/up-1`), "Allowed", action);
        assert.equal(await act(action, "arn:aws:s3:::shared-exports/daily/2026-11-27.csv"), "Allowed");
        assert.equal(await act(action, "arn:aws:s3:::archive-bucket/any/key"), "Allowed");
      }
      assert.notEqual(await act("s3:GetObject", `${own}/payloads/3f1c`), "Allowed");
      assert.notEqual(
        await act("s3:GetObject", "arn:aws:s3:::shared-exports/monthly/2026-11.csv"),
        "Allowed",
      );
      assert.notEqual(await act("s3:GetObject", "arn:aws:s3:::shared-exports-2/daily/x"), "Allowed");
      assert.notEqual(await act("s3:DeleteObject", `${own}/incoming/up-1`), "Allowed");
      assert.equal(await act("sns:Publish", s.pub.topicArn), "Allowed");
      assert.notEqual(await act("sns:Publish", `arn:aws:sns:us-east-1:${s.pub.account}:other`), "Allowed");
      assert.equal(await act("sqs:SendMessage", s.pub.failureQueueArn), "Allowed");
      assert.notEqual(await act("sqs:SendMessage", s.b.queueArn), "Allowed");
      const stream = `arn:aws:logs:${s.pub.region}:${s.pub.account}:log-group:${s.pub.logGroup}:log-stream:x`;
      assert.equal(await act("logs:PutLogEvents", stream), "Allowed");
      assert.equal(await act("logs:CreateLogStream", stream), "Allowed");
      assert.notEqual(
        await act("logs:PutLogEvents", stream.replace(s.pub.logGroup, "/aws/lambda/other")),
        "Allowed",
      );
      const viaSns = { "kms:ViaService": `sns.${s.pub.region}.amazonaws.com` };
      const viaS3 = { "kms:ViaService": `s3.${s.pub.region}.amazonaws.com` };
      const topicKey = `arn:aws:kms:us-east-1:${s.pub.account}:key/topic`;
      const payloadKey = `arn:aws:kms:us-east-1:${s.pub.account}:key/p`;
      // A key is usable only as its key policy allows: these are the ones the stack gives the keys.
      const topicKeyPolicy = built(policies.topicKeyPolicy(s.pub));
      const payloadKeyPolicy = built(policies.payloadKeyPolicy(s.pub, s.subs, s.producers));
      for (const action of ["kms:GenerateDataKey", "kms:Decrypt"]) {
        assert.equal(await act(action, topicKey, viaSns, topicKeyPolicy), "Allowed", action);
        assert.notEqual(await act(action, topicKey, viaS3, topicKeyPolicy), "Allowed", action);
        assert.equal(await act(action, payloadKey, viaS3, payloadKeyPolicy), "Allowed", action);
        assert.notEqual(await act(action, payloadKey, viaSns, payloadKeyPolicy), "Allowed", action);
        assert.notEqual(await act(action, payloadKey, {}, payloadKeyPolicy), "Allowed", action);
      }
      // Without SSE-KMS payloads there is no payload key grant at all.
      const plain = publisherPolicy(s);
      assert.notEqual(
        await simulate({
          principal: s.pub.roleArn,
          identity: [plain],
          action: "kms:GenerateDataKey",
          resource: payloadKey,
          resourceAccount: s.pub.account,
          resourcePolicy: payloadKeyPolicy,
          context: viaS3,
        }),
        "Allowed",
      );
    });
  });

  describe("subscriber roles", () => {
    let prod: System;
    beforeEach(() => {
      prod = system();
    });

    it("a queue subscriber consumes its queue; a Lambda subscriber reports failures to its DLQ", async () => {
      const act = (sub: SubscriberNames, action: string, resource: string) =>
        simulate({
          principal: sub.roleArn,
          identity: [consumerPolicy(prod, sub)],
          action,
          resource,
          resourceAccount: sub.account,
        });
      for (const action of ["sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes"]) {
        assert.equal(await act(prod.b, action, prod.b.queueArn), "Allowed", action);
        assert.notEqual(await act(prod.b, action, prod.b.dlqArn), "Allowed", action);
        assert.notEqual(await act(prod.c, action, prod.c.dlqArn), "Allowed", action);
      }
      assert.notEqual(await act(prod.b, "sqs:SendMessage", prod.b.queueArn), "Allowed");
      assert.equal(await act(prod.c, "sqs:SendMessage", prod.c.dlqArn), "Allowed");
      assert.notEqual(await act(prod.c, "sqs:SendMessage", prod.c.queueArn), "Allowed");
      const logs = (sub: SubscriberNames, group: string) =>
        act(
          sub,
          "logs:PutLogEvents",
          `arn:aws:logs:${sub.region}:${sub.account}:log-group:${group}:log-stream:1`,
        );
      assert.equal(await logs(prod.b, prod.b.logGroup), "Allowed");
      assert.notEqual(await logs(prod.b, prod.c.logGroup), "Allowed");
    });

    it("starts its own downstream only: B its state machine, C its task in its cluster with its two task roles", async () => {
      const act = (
        sub: SubscriberNames,
        action: string,
        resource: string,
        context?: Record<string, string>,
      ) =>
        simulate({
          principal: sub.roleArn,
          identity: [consumerPolicy(prod, sub)],
          action,
          resource,
          resourceAccount: sub.account,
          context,
        });
      assert.equal(await act(prod.b, "states:StartExecution", prod.b.stateMachineArn), "Allowed");
      assert.notEqual(
        await act(prod.b, "states:StartExecution", prod.b.stateMachineArn.replace(/[^:]+$/, "other")),
        "Allowed",
      );
      // B's downstream is Step Functions: no task of its own name runs, no task role passes.
      assert.notEqual(
        await act(
          prod.b,
          "ecs:RunTask",
          `arn:aws:ecs:${prod.b.region}:${prod.b.account}:task-definition/${prod.b.taskFamily}:1`,
          { "ecs:cluster": prod.b.clusterArn },
        ),
        "Allowed",
      );
      for (const arn of [prod.b.taskRoleArn, prod.b.taskExecutionRoleArn])
        assert.notEqual(
          await act(prod.b, "iam:PassRole", arn, { "iam:PassedToService": "ecs-tasks.amazonaws.com" }),
          "Allowed",
        );
      const taskDef = `arn:aws:ecs:${prod.c.region}:${prod.c.account}:task-definition/${prod.c.taskFamily}:3`;
      const run = (arn: string, cluster: string) =>
        act(prod.c, "ecs:RunTask", arn, { "ecs:cluster": cluster });
      assert.equal(await run(taskDef, prod.c.clusterArn), "Allowed");
      assert.notEqual(await run(taskDef.replace(prod.c.taskFamily, "other"), prod.c.clusterArn), "Allowed");
      assert.notEqual(await run(taskDef, prod.c.clusterArn.replace(/[^/]+$/, "other")), "Allowed");
      assert.notEqual(await act(prod.c, "states:StartExecution", prod.c.stateMachineArn), "Allowed");
      const pass = (arn: string, service: string) =>
        act(prod.c, "iam:PassRole", arn, { "iam:PassedToService": service });
      for (const arn of [prod.c.taskRoleArn, prod.c.taskExecutionRoleArn]) {
        assert.equal(await pass(arn, "ecs-tasks.amazonaws.com"), "Allowed", arn);
        assert.notEqual(await pass(arn, "lambda.amazonaws.com"), "Allowed", arn);
      }
      assert.notEqual(await pass(prod.c.roleArn, "ecs-tasks.amazonaws.com"), "Allowed");
      // A subscriber without downstream starts nothing.
      const none = system("a-use1", (t) => {
        t.subscribers[0].downstream = "none";
      });
      const idle = consumerPolicy(none, none.b);
      assert.notEqual(
        await simulate({
          principal: none.b.roleArn,
          identity: [idle],
          action: "states:StartExecution",
          resource: none.b.stateMachineArn,
          resourceAccount: none.b.account,
        }),
        "Allowed",
      );
    });

    // In one account (the dev stack) the role's own policy decides, under key and bucket policies
    // that grant the account: the scope checked here is the identity policy's.
    it("with SSE-KMS payloads, decrypts through S3 in the bucket's Region only, and the replica's key in the replica's Region", async () => {
      const dev = system("dev", (t) => {
        t.offload.kms = true;
      });
      const replica = replicaNames(dev.topology, dev.b.region);
      const originKey = `arn:aws:kms:${dev.pub.region}:${dev.pub.account}:key/origin`;
      const replicaKey = `arn:aws:kms:${replica.region}:${dev.pub.account}:key/replica`;
      const keyPolicies: Record<string, Policy> = {
        [originKey]: built(policies.payloadKeyPolicy(dev.pub, dev.subs, dev.producers)),
        [replicaKey]: built(policies.replicaKeyPolicy(replica, [dev.b])),
      };
      const decrypt = (sub: SubscriberNames, key: string, via: string, kms = true) =>
        simulate({
          principal: sub.roleArn,
          identity: [consumerPolicy(dev, sub, kms)],
          action: "kms:Decrypt",
          resource: key,
          resourceAccount: dev.pub.account,
          resourcePolicy: keyPolicies[key],
          context: { "kms:ViaService": via },
        });
      for (const sub of [dev.b, dev.c]) {
        assert.equal(await decrypt(sub, originKey, "s3.us-east-1.amazonaws.com"), "Allowed", sub.role);
        assert.notEqual(await decrypt(sub, originKey, "s3.us-west-2.amazonaws.com"), "Allowed", sub.role);
        assert.notEqual(await decrypt(sub, originKey, "sqs.us-east-1.amazonaws.com"), "Allowed", sub.role);
        // Without SSE-KMS, no key grant at all.
        assert.notEqual(
          await decrypt(sub, originKey, "s3.us-east-1.amazonaws.com", false),
          "Allowed",
          sub.role,
        );
      }
      // b reads a replica in us-west-2; c has none.
      assert.equal(await decrypt(dev.b, replicaKey, "s3.us-west-2.amazonaws.com"), "Allowed");
      assert.notEqual(await decrypt(dev.b, replicaKey, "s3.us-east-1.amazonaws.com"), "Allowed");
      assert.notEqual(await decrypt(dev.b, replicaKey, "s3.us-west-2.amazonaws.com", false), "Allowed");
      assert.notEqual(await decrypt(dev.c, replicaKey, "s3.us-west-2.amazonaws.com"), "Allowed");
    });

    it("a subscriber with a replica reads and lists payloads/ of both buckets", async () => {
      const dev = system("dev");
      const replica = replicaNames(dev.topology, dev.b.region);
      const bucketPolicies: Record<string, Policy> = {
        [dev.pub.bucketArn]: built(policies.payloadBucketPolicy(dev.pub, dev.subs, dev.producers)),
        [replica.bucketArn]: built(policies.replicaBucketPolicy(dev.pub, replica, [dev.b])),
      };
      const read = (sub: SubscriberNames, bucket: string, key?: string, prefix = "payloads/") =>
        simulate({
          principal: sub.roleArn,
          identity: [consumerPolicy(dev, sub)],
          action: key === undefined ? "s3:ListBucket" : "s3:GetObject",
          resource: key === undefined ? bucket : `${bucket}/${key}`,
          resourceAccount: dev.pub.account,
          resourcePolicy: bucketPolicies[bucket],
          context: { "s3:prefix": prefix },
        });
      for (const bucket of [dev.pub.bucketArn, replica.bucketArn]) {
        assert.equal(await read(dev.b, bucket, "payloads/3f1c"), "Allowed", bucket);
        assert.equal(await read(dev.b, bucket), "Allowed", bucket);
        assert.notEqual(await read(dev.b, bucket, undefined, "incoming/"), "Allowed", bucket);
        assert.notEqual(await read(dev.b, bucket, "incoming/x"), "Allowed", bucket);
      }
      assert.notEqual(await read(dev.c, replica.bucketArn, "payloads/3f1c"), "Allowed");
      assert.notEqual(await read(dev.c, replica.bucketArn), "Allowed");
      assert.equal(await read(dev.c, dev.pub.bucketArn, "payloads/3f1c"), "Allowed");
    });
  });

  describe("task execution role", () => {
    let prod: System;
    beforeEach(() => {
      prod = system();
    });
    const act = (policy: Policy, action: string, resource: string) =>
      simulate({
        principal: prod.c.taskExecutionRoleArn,
        identity: [policy],
        action,
        resource,
        resourceAccount: prod.c.account,
      });
    const repository = (name: string) => `arn:aws:ecr:eu-west-1:${prod.c.account}:repository/${name}`;

    it("writes the task's log group; pulls only from the private ECR repository its image names", async () => {
      const image = `${prod.c.account}.dkr.ecr.eu-west-1.amazonaws.com/team/app:1.2@sha256:abc`;
      const policy = built(policies.taskExecutionRolePolicy(prod.c, image));
      const stream = `arn:aws:logs:${prod.c.region}:${prod.c.account}:log-group:${prod.c.taskLogGroup}:log-stream:app/1`;
      assert.equal(await act(policy, "logs:PutLogEvents", stream), "Allowed");
      assert.notEqual(
        await act(policy, "logs:PutLogEvents", stream.replace(prod.c.taskLogGroup, prod.c.logGroup)),
        "Allowed",
      );
      assert.equal(await act(policy, "ecr:GetAuthorizationToken", "*"), "Allowed");
      const repo = repository("team/app");
      for (const action of ["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"])
        assert.equal(await act(policy, action, repo), "Allowed", action);
      assert.notEqual(await act(policy, "ecr:BatchGetImage", repository("team/other")), "Allowed");
      assert.notEqual(
        await act(policy, "ecr:BatchGetImage", repo.replace("eu-west-1", "us-east-1")),
        "Allowed",
      );
      assert.notEqual(await act(policy, "ecr:PutImage", repo), "Allowed");
    });

    it("a public image, or another registry's path that names an ECR repository, gets no ECR grant", async () => {
      for (const image of [
        prod.topology.subscribers[1].taskImage,
        `mirror.example.com/${prod.c.account}.dkr.ecr.eu-west-1.amazonaws.com/team/app:1`,
      ]) {
        const policy = built(policies.taskExecutionRolePolicy(prod.c, image));
        assert.notEqual(await act(policy, "ecr:GetAuthorizationToken", "*"), "Allowed", image);
        assert.notEqual(await act(policy, "ecr:BatchGetImage", repository("team/app")), "Allowed", image);
      }
    });
  });

  describe("service trust policies", () => {
    let prod: System;
    beforeEach(() => {
      prod = system();
    });
    const assume = (trust: Policy, service: string, context: Record<string, string> = {}) =>
      simulate({
        principal: service,
        identity: [],
        action: "sts:AssumeRole",
        resource: prod.c.taskRoleArn,
        resourceAccount: prod.c.account,
        resourcePolicy: trust,
        context,
      });

    it("a service assumes a role for resources of the role's own account only (aws:SourceAccount)", async () => {
      const trust = built(policies.serviceTrustPolicy("ecs-tasks.amazonaws.com", prod.c.account));
      assert.equal(
        await assume(trust, "ecs-tasks.amazonaws.com", { "aws:SourceAccount": prod.c.account }),
        "Allowed",
      );
      assert.notEqual(
        await assume(trust, "ecs-tasks.amazonaws.com", { "aws:SourceAccount": OUTSIDER }),
        "Allowed",
      );
      assert.notEqual(await assume(trust, "ecs-tasks.amazonaws.com"), "Allowed");
      assert.notEqual(
        await assume(trust, "lambda.amazonaws.com", { "aws:SourceAccount": prod.c.account }),
        "Allowed",
      );
    });

    it("without an account (Lambda's function roles) the service alone may assume it", async () => {
      const trust = built(policies.serviceTrustPolicy("lambda.amazonaws.com"));
      assert.equal(await assume(trust, "lambda.amazonaws.com"), "Allowed");
      assert.notEqual(await assume(trust, "ecs-tasks.amazonaws.com"), "Allowed");
      assert.notEqual(
        await simulate({
          principal: role(prod.c.account, "admin"),
          identity: [ADMIN],
          action: "sts:AssumeRole",
          resource: prod.c.taskRoleArn,
          resourceAccount: prod.c.account,
          resourcePolicy: trust,
        }),
        "Allowed",
      );
    });

    it("tracing lets a function or state machine send its segments, plus the extra actions asked for", async () => {
      const trace = (statement: policies.PolicyStatement, action: string) =>
        simulate({
          principal: prod.b.roleArn,
          identity: [built({ Version: "2012-10-17", Statement: [statement] })],
          action,
          resource: "*",
          resourceAccount: prod.b.account,
        });
      for (const action of ["xray:PutTraceSegments", "xray:PutTelemetryRecords"])
        assert.equal(await trace(policies.tracingStatement(), action), "Allowed", action);
      assert.notEqual(await trace(policies.tracingStatement(), "xray:GetSamplingRules"), "Allowed");
      assert.equal(
        await trace(policies.tracingStatement(["xray:GetSamplingRules"]), "xray:GetSamplingRules"),
        "Allowed",
      );
      assert.notEqual(
        await trace(policies.tracingStatement(["xray:GetSamplingRules"]), "xray:BatchGetTraces"),
        "Allowed",
      );
    });
  });

  describe("keys", () => {
    let s: System, admin: string;
    beforeEach(() => {
      s = system("a-use1", (t) => {
        t.offload.kms = true;
      });
      admin = role(s.pub.account, "admin");
    });
    const keyArn = (region: string, id: string) => `arn:aws:kms:${region}:${s.pub.account}:key/${id}`;
    const use = (
      policy: Policy,
      key: string,
      principal: string,
      identity: Policy[],
      action: string,
      context: Record<string, string> = {},
    ) =>
      simulate({
        principal,
        identity,
        action,
        resource: key,
        resourceAccount: s.pub.account,
        resourcePolicy: policy,
        context,
      });

    it("the topic key: its account administers it, the publisher role uses it through SNS, nobody outside", async () => {
      const policy = built(policies.topicKeyPolicy(s.pub));
      const key = keyArn(s.pub.region, "topic");
      const id = [publisherPolicy(s)];
      const viaSns = { "kms:ViaService": "sns.us-east-1.amazonaws.com" };
      assert.equal(await use(policy, key, s.pub.roleArn, id, "kms:GenerateDataKey", viaSns), "Allowed");
      assert.equal(await use(policy, key, s.pub.roleArn, id, "kms:Decrypt", viaSns), "Allowed");
      assert.notEqual(await use(policy, key, s.pub.roleArn, id, "kms:GenerateDataKey"), "Allowed");
      assert.equal(await use(policy, key, admin, [ALL("kms:*")], "kms:ScheduleKeyDeletion"), "Allowed");
      assert.notEqual(
        await use(policy, key, role(OUTSIDER, "intruder"), [ALL("kms:*")], "kms:Decrypt", viaSns),
        "Allowed",
      );
      assert.notEqual(await use(policy, key, s.b.roleArn, [ALL("kms:*")], "kms:Decrypt", viaSns), "Allowed");
    });

    it("the payload key: subscriber roles of other accounts decrypt, producers encrypt, both through S3 in the bucket's Region only", async () => {
      const uploader = role(OUTSIDER, "uploader");
      const p = system("a-use1", (t) => {
        t.offload.kms = true;
        t.publisher.producers = [s.pub.account, PRODUCER, uploader];
      });
      const policy = built(policies.payloadKeyPolicy(p.pub, p.subs, p.producers));
      const key = keyArn(p.pub.region, "payloads");
      const viaS3 = { "kms:ViaService": "s3.us-east-1.amazonaws.com" };
      const elsewhere = { "kms:ViaService": "s3.us-west-2.amazonaws.com" };
      for (const sub of [p.b, p.c]) {
        const id = [consumerPolicy(p, sub)];
        assert.equal(await use(policy, key, sub.roleArn, id, "kms:Decrypt", viaS3), "Allowed", sub.role);
        assert.notEqual(
          await use(policy, key, sub.roleArn, id, "kms:Decrypt", elsewhere),
          "Allowed",
          sub.role,
        );
        assert.notEqual(
          await use(policy, key, sub.roleArn, [ALL("kms:*")], "kms:Decrypt"),
          "Allowed",
          sub.role,
        );
        assert.notEqual(
          await use(policy, key, sub.roleArn, [ALL("kms:*")], "kms:GenerateDataKey", viaS3),
          "Allowed",
          sub.role,
        );
      }
      assert.notEqual(
        await use(policy, key, role(p.b.account, "other"), [ALL("kms:*")], "kms:Decrypt", viaS3),
        "Allowed",
      );
      for (const principal of [role(PRODUCER, "any"), uploader])
        for (const action of ["kms:GenerateDataKey", "kms:Decrypt"]) {
          assert.equal(
            await use(policy, key, principal, [ALL("kms:*")], action, viaS3),
            "Allowed",
            principal,
          );
          assert.notEqual(await use(policy, key, principal, [ALL("kms:*")], action, elsewhere), "Allowed");
          assert.notEqual(await use(policy, key, principal, [ALL("kms:*")], action), "Allowed");
        }
      assert.notEqual(
        await use(policy, key, role(OUTSIDER, "other"), [ALL("kms:*")], "kms:GenerateDataKey", viaS3),
        "Allowed",
      );
      // The account administers its key; its identities use it as their own policies say.
      assert.equal(await use(policy, key, admin, [ALL("kms:*")], "kms:ScheduleKeyDeletion"), "Allowed");
      const writer = [publisherPolicy(p, { payloadKeyArn: key })];
      assert.equal(await use(policy, key, p.pub.roleArn, writer, "kms:GenerateDataKey", viaS3), "Allowed");
      assert.notEqual(await use(policy, key, p.pub.roleArn, writer, "kms:GenerateDataKey"), "Allowed");
    });

    it("in one account (dev stack), the payload key admits the consumer roles through their own policies", async () => {
      const dev = system("dev", (t) => {
        t.offload.kms = true;
      });
      const policy = built(policies.payloadKeyPolicy(dev.pub, dev.subs, dev.producers));
      const key = `arn:aws:kms:${dev.pub.region}:${dev.pub.account}:key/payloads`;
      for (const sub of [dev.b, dev.c]) {
        const decrypt = (via: string) =>
          simulate({
            principal: sub.roleArn,
            identity: [consumerPolicy(dev, sub)],
            action: "kms:Decrypt",
            resource: key,
            resourceAccount: dev.pub.account,
            resourcePolicy: policy,
            context: { "kms:ViaService": via },
          });
        assert.equal(await decrypt("s3.us-east-1.amazonaws.com"), "Allowed", sub.role);
        assert.notEqual(await decrypt("s3.us-west-2.amazonaws.com"), "Allowed", sub.role);
      }
    });
  });

  describe("replicas", () => {
    let s: System, replica: ReplicaNames, readers: SubscriberNames[], replicaPolicy: Policy;
    beforeEach(() => {
      s = system();
      replica = replicaNames(s.topology, "us-west-2");
      readers = [s.b];
      replicaPolicy = built(policies.replicaBucketPolicy(s.pub, replica, readers));
    });
    const replication = (keys?: { origin: string; replica: string }) =>
      built(
        policies.replicationRolePolicy(
          s.pub,
          [{ ...replica, ...(keys ? { keyArn: keys.replica } : {}) }],
          keys?.origin,
        ),
      );
    const act = (
      principal: string,
      identity: Policy[],
      action: string,
      resource: string,
      resourcePolicy?: Policy,
      context?: Record<string, string>,
    ) =>
      simulate({
        principal,
        identity,
        action,
        resource,
        resourceAccount: s.pub.account,
        resourcePolicy,
        context,
      });

    it("the replica's readers are that Region's subscriber roles; only the replication role writes it", async () => {
      const object = `${replica.bucketArn}/payloads/3f1c`;
      const id = [consumerPolicy(s, s.b)];
      assert.equal(await act(s.b.roleArn, id, "s3:GetObject", object, replicaPolicy), "Allowed");
      assert.equal(
        await act(s.b.roleArn, id, "s3:ListBucket", replica.bucketArn, replicaPolicy, {
          "s3:prefix": "payloads/",
        }),
        "Allowed",
      );
      assert.notEqual(
        await act(s.c.roleArn, [ALL("s3:*")], "s3:GetObject", object, replicaPolicy),
        "Allowed",
      );
      for (const action of ["s3:ReplicateObject", "s3:ReplicateTags"])
        assert.equal(
          await act(s.pub.replicationRoleArn, [replication()], action, object, replicaPolicy),
          "Allowed",
          action,
        );
      for (const action of [
        "s3:PutObject",
        "s3:ReplicateObject",
        "s3:ReplicateDelete",
        "s3:PutObjectTagging",
      ]) {
        assert.equal(
          await act(role(s.pub.account, "admin"), [ADMIN], action, object, replicaPolicy),
          "ExplicitlyDenied",
          action,
        );
        assert.equal(
          await act(s.pub.roleArn, [publisherPolicy(s), ADMIN], action, object, replicaPolicy),
          "ExplicitlyDenied",
          action,
        );
      }
      // Nobody stages sources in a replica.
      assert.notEqual(
        await act(
          role(s.pub.account, "producer"),
          [],
          "s3:PutObject",
          `${replica.bucketArn}/incoming/x`,
          replicaPolicy,
        ),
        "Allowed",
      );
      assert.equal(
        await act(s.b.roleArn, id, "s3:GetObject", object, replicaPolicy, { "aws:SecureTransport": "false" }),
        "ExplicitlyDenied",
      );
    });

    it("the replication role reads the origin's configuration and payloads/ versions, and writes replicas' payloads/", async () => {
      const id = [replication()];
      const r = (action: string, resource: string, context?: Record<string, string>) =>
        act(s.pub.replicationRoleArn, id, action, resource, undefined, context);
      assert.equal(await r("s3:GetReplicationConfiguration", s.pub.bucketArn), "Allowed");
      assert.equal(await r("s3:ListBucket", s.pub.bucketArn), "Allowed");
      assert.notEqual(await r("s3:GetReplicationConfiguration", replica.bucketArn), "Allowed");
      for (const action of [
        "s3:GetObjectVersionForReplication",
        "s3:GetObjectVersionAcl",
        "s3:GetObjectVersionTagging",
      ]) {
        assert.equal(await r(action, `${s.pub.bucketArn}/payloads/3f1c`), "Allowed", action);
        assert.notEqual(await r(action, `${s.pub.bucketArn}/incoming/x`), "Allowed", action);
      }
      for (const action of ["s3:ReplicateObject", "s3:ReplicateTags"]) {
        assert.equal(await r(action, `${replica.bucketArn}/payloads/3f1c`), "Allowed", action);
        assert.notEqual(await r(action, `${replica.bucketArn}/incoming/x`), "Allowed", action);
        assert.notEqual(await r(action, `${s.pub.bucketArn}/payloads/3f1c`), "Allowed", action);
      }
      assert.notEqual(await r("s3:ReplicateDelete", `${replica.bucketArn}/payloads/3f1c`), "Allowed");
      assert.notEqual(
        await r("kms:Decrypt", `arn:aws:kms:us-east-1:${s.pub.account}:key/o`, {
          "kms:ViaService": "s3.us-east-1.amazonaws.com",
        }),
        "Allowed",
      );
    });

    it("with SSE-KMS, the replication role decrypts with the origin's key and encrypts with each replica's, through S3 in the key's Region", async () => {
      const origin = `arn:aws:kms:us-east-1:${s.pub.account}:key/o`;
      const replicaKey = `arn:aws:kms:us-west-2:${s.pub.account}:key/r`;
      const id = [replication({ origin, replica: replicaKey })];
      // Each key's policy grants its account (the publisher's), so the role's own policy decides.
      const originKeyPolicy = built(policies.payloadKeyPolicy(s.pub, s.subs, s.producers));
      const keyPolicyFor = (key: string) => {
        const region = key.split(":")[3];
        return region === s.pub.region
          ? originKeyPolicy
          : built(policies.replicaKeyPolicy(replicaNames(s.topology, region), [s.b]));
      };
      const k = (action: string, key: string, region: string) =>
        act(s.pub.replicationRoleArn, id, action, key, keyPolicyFor(key), {
          "kms:ViaService": `s3.${region}.amazonaws.com`,
        });
      assert.equal(await k("kms:Decrypt", origin, "us-east-1"), "Allowed");
      assert.notEqual(await k("kms:Decrypt", origin, "us-west-2"), "Allowed");
      assert.notEqual(await k("kms:Decrypt", replicaKey, "us-west-2"), "Allowed");
      for (const action of ["kms:Encrypt", "kms:GenerateDataKey"]) {
        assert.equal(await k(action, replicaKey, "us-west-2"), "Allowed", action);
        assert.notEqual(await k(action, replicaKey, "us-east-1"), "Allowed", action);
        assert.notEqual(await k(action, origin, "us-east-1"), "Allowed", action);
      }
      // Two replica Regions, one keyed: only the keyed one's key is granted, through its own Region.
      const eu = replicaNames(s.topology, "eu-west-1");
      const euKey = `arn:aws:kms:eu-west-1:${s.pub.account}:key/e`;
      const mixed = built(policies.replicationRolePolicy(s.pub, [replica, { ...eu, keyArn: euKey }], origin));
      const m = (action: string, resource: string, context?: Record<string, string>) =>
        act(
          s.pub.replicationRoleArn,
          [mixed],
          action,
          resource,
          resource.startsWith("arn:aws:kms:") ? keyPolicyFor(resource) : undefined,
          context,
        );
      assert.equal(await m("s3:ReplicateObject", `${replica.bucketArn}/payloads/x`), "Allowed");
      assert.equal(await m("s3:ReplicateObject", `${eu.bucketArn}/payloads/x`), "Allowed");
      assert.equal(
        await m("kms:Encrypt", euKey, { "kms:ViaService": "s3.eu-west-1.amazonaws.com" }),
        "Allowed",
      );
      assert.notEqual(
        await m("kms:Encrypt", euKey, { "kms:ViaService": "s3.us-west-2.amazonaws.com" }),
        "Allowed",
      );
    });

    it("the replica's key: the account administers it, that Region's readers decrypt through S3 there", async () => {
      const policy = built(policies.replicaKeyPolicy(replica, readers));
      const key = `arn:aws:kms:us-west-2:${s.pub.account}:key/r`;
      const kms = system("a-use1", (t) => {
        t.offload.kms = true;
      });
      const id = [consumerPolicy(kms, kms.b)];
      const decrypt = (principal: string, identity: Policy[], region: string) =>
        act(principal, identity, "kms:Decrypt", key, policy, {
          "kms:ViaService": `s3.${region}.amazonaws.com`,
        });
      assert.equal(await decrypt(s.b.roleArn, id, "us-west-2"), "Allowed");
      assert.notEqual(await decrypt(s.b.roleArn, id, "us-east-1"), "Allowed");
      assert.notEqual(await decrypt(role(s.b.account, "other"), [ALL("kms:*")], "us-west-2"), "Allowed");
      assert.notEqual(await decrypt(s.c.roleArn, [ALL("kms:*")], "us-west-2"), "Allowed");
      assert.equal(
        await act(role(s.pub.account, "admin"), [ALL("kms:*")], "kms:ScheduleKeyDeletion", key, policy),
        "Allowed",
      );
      const encrypt = (region: string) =>
        act(
          s.pub.replicationRoleArn,
          [replication({ origin: "arn:aws:kms:us-east-1:1:key/o", replica: key })],
          "kms:Encrypt",
          key,
          policy,
          {
            "kms:ViaService": `s3.${region}.amazonaws.com`,
          },
        );
      assert.equal(await encrypt("us-west-2"), "Allowed");
      assert.notEqual(await encrypt("us-east-1"), "Allowed");
    });
  });

  describe("alarm topics", () => {
    let src: policies.AlarmSource;
    beforeEach(() => {
      const prod = system();
      src = {
        account: prod.b.account,
        region: prod.b.region,
        topicArn: `arn:aws:sns:${prod.b.region}:${prod.b.account}:fieldnotes-alarms`,
        alarmNamePrefix: "fieldnotes-b-",
      };
    });
    const alarm = (account: string, name: string, region = src.region) =>
      `arn:aws:cloudwatch:${region}:${account}:alarm:${name}`;

    it("only CloudWatch, for this stack's alarms, publishes to the alarm topic; nobody without TLS", async () => {
      const policy = built(policies.alarmTopicPolicy(src));
      const publish = (principal: string, identity: Policy[], context: Record<string, string>) =>
        simulate({
          principal,
          identity,
          action: "sns:Publish",
          resource: src.topicArn,
          resourceAccount: src.account,
          resourcePolicy: policy,
          context,
        });
      const cw = (account: string, name: string, extra: Record<string, string> = {}) =>
        publish("cloudwatch.amazonaws.com", [], {
          "aws:SourceAccount": account,
          "aws:SourceArn": alarm(account, name),
          "aws:PrincipalServiceName": "cloudwatch.amazonaws.com",
          ...extra,
        });
      assert.equal(await cw(src.account, "fieldnotes-b-queue-age"), "Allowed");
      assert.notEqual(await cw(src.account, "someone-elses-alarm"), "Allowed");
      assert.notEqual(await cw(OUTSIDER, "fieldnotes-b-queue-age"), "Allowed");
      assert.equal(
        await cw(src.account, "fieldnotes-b-queue-age", { "aws:SecureTransport": "false" }),
        "ExplicitlyDenied",
      );
      assert.equal(await publish(role(src.account, "admin"), [ADMIN], {}), "ExplicitlyDenied");
    });

    it("the alarm key lets CloudWatch encrypt for this stack's alarms only; the account administers it", async () => {
      const policy = built(policies.alarmKeyPolicy(src));
      const key = `arn:aws:kms:${src.region}:${src.account}:key/alarms`;
      const use = (action: string, account: string, name: string, region = src.region) =>
        simulate({
          principal: "cloudwatch.amazonaws.com",
          identity: [],
          action,
          resource: key,
          resourceAccount: src.account,
          resourcePolicy: policy,
          context: { "aws:SourceAccount": account, "aws:SourceArn": alarm(account, name, region) },
        });
      for (const action of ["kms:GenerateDataKey", "kms:GenerateDataKeyWithoutPlaintext", "kms:Decrypt"])
        assert.equal(await use(action, src.account, "fieldnotes-b-dlq"), "Allowed", action);
      assert.notEqual(await use("kms:Encrypt", src.account, "fieldnotes-b-dlq"), "Allowed");
      assert.notEqual(await use("kms:Decrypt", src.account, "other-dlq"), "Allowed");
      assert.notEqual(await use("kms:Decrypt", src.account, "fieldnotes-b-dlq", "us-east-1"), "Allowed");
      assert.notEqual(await use("kms:Decrypt", OUTSIDER, "fieldnotes-b-dlq"), "Allowed");
      assert.equal(
        await simulate({
          principal: role(src.account, "admin"),
          identity: [ALL("kms:*")],
          action: "kms:DisableKey",
          resource: key,
          resourceAccount: src.account,
          resourcePolicy: policy,
        }),
        "Allowed",
      );
    });
  });
});
