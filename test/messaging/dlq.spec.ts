import { strict as assert } from "assert";
import { spawnSync } from "child_process";
import * as http from "node:http";
import type { AddressInfo } from "node:net";
import * as path from "node:path";
import { CreateBucketCommand, DeleteObjectCommand, PutObjectCommand, S3Client } from "@aws-sdk/client-s3";
import {
  CreateQueueCommand,
  DeleteMessageCommand,
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
  SendMessageCommand,
  SQSClient,
} from "@aws-sdk/client-sqs";
import { UsageError } from "../../common/args";
import { main, parseDlqArgs, runDlq, stackQueues } from "../../messaging/dlq/cli";
import type { DlqDeps } from "../../messaging/dlq/dlq";
import type { DeadLetterQueue } from "../../messaging/dlq/queues";
import { formatPointer, MARKER_ATTRIBUTE } from "../../messaging/payload";
import { emulatorClientConfig, startFauxqs, type RunningEmulator } from "../../local/emulators";

// `npm run dlq` against fauxqs (SQS and S3). fauxqs has no StartMessageMoveTask nor
// ListMessageMoveTasks, so a loopback server in front of it answers those two calls in the SQS JSON
// protocol (moving the messages itself, as SQS would) and forwards everything else: the command's
// own logic (check every payload, refuse or set aside expired ones, start the task, follow it) runs
// unchanged against real HTTP.

interface MoveServer {
  endpoint: string;
  starts: Record<string, unknown>[];
  lists: number;
  stop(): Promise<void>;
}

async function startMoveServer(
  upstream: string,
  sources: Map<string, { dlqUrl: string; sourceUrl: string }>,
  sqs: SQSClient,
): Promise<MoveServer> {
  const up = new URL(upstream);
  const starts: Record<string, unknown>[] = [];
  let moved = 0;
  let total = 0;
  let done: Promise<void> = Promise.resolve();
  const state = { lists: 0 };
  const move = async (arn: string) => {
    const q = sources.get(arn);
    if (!q) return;
    for (;;) {
      const out = await sqs.send(
        new ReceiveMessageCommand({
          QueueUrl: q.dlqUrl,
          MaxNumberOfMessages: 10,
          MessageAttributeNames: ["All"],
          WaitTimeSeconds: 0,
        }),
      );
      if (!out.Messages?.length) return;
      for (const m of out.Messages) {
        await sqs.send(
          new SendMessageCommand({
            QueueUrl: q.sourceUrl,
            MessageBody: m.Body!,
            MessageAttributes: m.MessageAttributes,
          }),
        );
        await sqs.send(new DeleteMessageCommand({ QueueUrl: q.dlqUrl, ReceiptHandle: m.ReceiptHandle! }));
        moved += 1;
      }
    }
  };
  const server = http.createServer((req, res) => {
    const target = String(req.headers["x-amz-target"] ?? "");
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const body = Buffer.concat(chunks);
      const answer = (json: unknown) => {
        res.writeHead(200, { "content-type": "application/x-amz-json-1.0" });
        res.end(JSON.stringify(json));
      };
      if (target === "AmazonSQS.StartMessageMoveTask") {
        const input = JSON.parse(body.toString()) as Record<string, unknown>;
        starts.push(input);
        moved = 0;
        total = 2;
        done = move(String(input.SourceArn));
        return answer({ TaskHandle: "task-1" });
      }
      if (target === "AmazonSQS.ListMessageMoveTasks") {
        state.lists += 1;
        // First answer while running, then the finished task, as a long move would report.
        if (state.lists === 1)
          return answer({
            Results: [
              {
                Status: "RUNNING",
                ApproximateNumberOfMessagesMoved: 1,
                ApproximateNumberOfMessagesToMove: total,
              },
            ],
          });
        return done.then(() =>
          answer({
            Results: [
              {
                Status: "COMPLETED",
                ApproximateNumberOfMessagesMoved: moved,
                ApproximateNumberOfMessagesToMove: total,
              },
            ],
          }),
        );
      }
      const forward = http.request(
        { host: up.hostname, port: up.port, method: req.method, path: req.url, headers: req.headers },
        (r) => {
          res.writeHead(r.statusCode ?? 502, r.headers);
          r.pipe(res);
        },
      );
      forward.end(body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    starts,
    get lists() {
      return state.lists;
    },
    stop: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

describe("npm run dlq", function () {
  this.timeout(60_000);
  let fauxqs: RunningEmulator;
  let moves: MoveServer;
  let sqs: SQSClient;
  let s3: S3Client;
  let dlq: DeadLetterQueue;
  let sourceUrl: string;
  let asideUrl: string;
  const lines: string[] = [];
  const BUCKET = "fieldnotes-payloads-dlq-test";

  const deps = (): DlqDeps => ({
    sqs: () => new SQSClient(emulatorClientConfig(moves.endpoint)),
    s3: () => s3,
    log: (line) => lines.push(line),
    sleep: async () => {},
    now: () => new Date(),
  });
  const counts = async (url: string) => {
    const out = await sqs.send(
      new GetQueueAttributesCommand({
        QueueUrl: url,
        AttributeNames: ["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
      }),
    );
    return [
      Number(out.Attributes?.ApproximateNumberOfMessages),
      Number(out.Attributes?.ApproximateNumberOfMessagesNotVisible),
    ];
  };
  const offloaded = (key: string, size: number) =>
    sqs.send(
      new SendMessageCommand({
        QueueUrl: dlq.url,
        MessageBody: formatPointer({ s3BucketName: BUCKET, s3Key: key }),
        MessageAttributes: { [MARKER_ATTRIBUTE]: { DataType: "Number", StringValue: String(size) } },
      }),
    );

  beforeEach(async () => {
    lines.length = 0;
    fauxqs = await startFauxqs();
    sqs = new SQSClient(emulatorClientConfig(fauxqs.endpoint));
    s3 = new S3Client(emulatorClientConfig(fauxqs.endpoint));
    await s3.send(new CreateBucketCommand({ Bucket: BUCKET }));
    const create = async (name: string) =>
      (await sqs.send(new CreateQueueCommand({ QueueName: name }))).QueueUrl!;
    const dlqUrl = await create("fieldnotes-b-dlq");
    sourceUrl = await create("fieldnotes-b-queue");
    asideUrl = await create("expired-payloads");
    const arn = (
      await sqs.send(new GetQueueAttributesCommand({ QueueUrl: dlqUrl, AttributeNames: ["QueueArn"] }))
    ).Attributes!.QueueArn!;
    moves = await startMoveServer(fauxqs.endpoint, new Map([[arn, { dlqUrl, sourceUrl }]]), sqs);
    dlq = {
      id: "b/dlq",
      kind: "queue-dlq",
      part: "b",
      url: dlqUrl,
      arn,
      region: "us-east-1",
      payloadBucket: BUCKET,
      payloadBucketRegion: "us-east-1",
    };

    // Four dead letters: an inline body, a payload still in S3, one whose object expired, and a
    // body that claims to be offloaded but is no pointer.
    await sqs.send(new SendMessageCommand({ QueueUrl: dlq.url, MessageBody: "hello, inline" }));
    await s3.send(
      new PutObjectCommand({ Bucket: BUCKET, Key: "payloads/present", Body: "x".repeat(300_000) }),
    );
    await offloaded("payloads/present", 300_000);
    await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: "payloads/expired", Body: "y" }));
    await offloaded("payloads/expired", 1);
    await s3.send(new DeleteObjectCommand({ Bucket: BUCKET, Key: "payloads/expired" }));
    await sqs.send(
      new SendMessageCommand({
        QueueUrl: dlq.url,
        MessageBody: "not a pointer",
        MessageAttributes: { [MARKER_ATTRIBUTE]: { DataType: "Number", StringValue: "5" } },
      }),
    );
  });

  afterEach(async () => {
    await moves.stop();
    await fauxqs.stop();
  });

  const args = (argv: string) => parseDlqArgs(["--stack", "dev", ...argv.split(" ").filter(Boolean)])!;

  it("inspect counts the messages, decodes each pointer, checks each object, and leaves every message in place", async () => {
    const code = await runDlq(args("inspect --json"), [dlq], deps());
    assert.equal(code, 0);
    const [report] = JSON.parse(lines.join("\n"));
    assert.equal(report.scanned, 4);
    assert.deepEqual(report.tally, {
      inline: 1,
      offloaded: 2,
      event: 0,
      undecodable: 1,
      expired: 1,
      unchecked: 0,
    });
    assert.ok(report.oldest, "the oldest message's time");
    const sample = report.sample.join("\n");
    assert.match(
      sample,
      /offloaded s3:\/\/fieldnotes-payloads-dlq-test\/payloads\/present \(300000 bytes\) object exists/,
    );
    assert.match(sample, /payloads\/expired \(1 bytes\) object MISSING \(expired\)/);
    assert.match(sample, /inline 13 bytes "hello, inline"/);
    assert.match(sample, /undecodable: MalformedPointer/);
    assert.deepEqual(await counts(dlq.url), [4, 0], "inspect released every message it read");
  });

  it("redrive refuses while a payload has expired: nothing is moved and no move task starts", async () => {
    const code = await runDlq(args("redrive"), [dlq], deps());
    assert.equal(code, 1);
    assert.match(lines.join("\n"), /refused: 2 message\(s\) would fail again .* pass --expired-to/);
    assert.equal(moves.starts.length, 0);
    assert.deepEqual(await counts(dlq.url), [4, 0]);
    assert.deepEqual(await counts(sourceUrl), [0, 0]);
  });

  it("redrive --dry-run --expired-to reports what would happen and changes nothing", async () => {
    const code = await runDlq(args(`redrive --dry-run --expired-to ${asideUrl}`), [dlq], deps());
    assert.equal(code, 0);
    assert.match(lines.join("\n"), /dry run: 2 message\(s\) would move back .*, 2 would be moved to/);
    assert.equal(moves.starts.length, 0);
    assert.deepEqual(await counts(dlq.url), [4, 0]);
    assert.deepEqual(await counts(asideUrl), [0, 0]);
  });

  it("redrive --expired-to sets expired and undecodable messages aside, then moves the rest back with a followed move task", async () => {
    const code = await runDlq(args(`redrive --expired-to ${asideUrl} --rate 50`), [dlq], deps());
    assert.equal(code, 0, lines.join("\n"));
    // No DestinationArn: SQS moves each message back to the queue it was dead-lettered from.
    assert.deepEqual(moves.starts, [{ SourceArn: dlq.arn, MaxNumberOfMessagesPerSecond: 50 }]);
    const log = lines.join("\n");
    assert.match(log, /RUNNING: moved 1 of 2/);
    assert.match(log, /COMPLETED: moved 2 of 2/);
    assert.deepEqual(await counts(dlq.url), [0, 0]);
    assert.deepEqual(await counts(sourceUrl), [2, 0]);
    const aside = await sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: asideUrl,
        MaxNumberOfMessages: 10,
        MessageAttributeNames: ["All"],
      }),
    );
    assert.deepEqual(aside.Messages?.map((m) => m.Body).sort(), [
      formatPointer({ s3BucketName: BUCKET, s3Key: "payloads/expired" }),
      "not a pointer",
    ]);
    assert.equal(
      aside.Messages?.[0].MessageAttributes?.[MARKER_ATTRIBUTE]?.StringValue !== undefined,
      true,
      "attributes kept",
    );
  });

  it("a subscription DLQ is reported as not redrivable, without reading it", async () => {
    const code = await runDlq(
      parseDlqArgs([
        "--queue-url",
        `https://sqs.us-east-1.amazonaws.com/123456789012/x`,
        "--bucket",
        BUCKET,
        "--kind",
        "subscription-dlq",
        "redrive",
      ])!,
      [{ ...dlq, kind: "subscription-dlq" }],
      deps(),
    );
    assert.equal(code, 1);
    assert.match(lines.join("\n"), /not redriven: SNS, not a queue, dead-lettered these messages/);
    assert.deepEqual(await counts(dlq.url), [4, 0]);
  });

  it("reads the stack's dead-letter queues from its outputs and filters by subscriber", () => {
    const outputs = {
      messaging: {
        deadLetterQueues: {
          "publisher/failures": {
            kind: "publisher-failures",
            part: "publisher",
            url: "u1",
            arn: "a1",
            region: "us-east-1",
            payloadBucket: BUCKET,
            payloadBucketRegion: "us-east-1",
          },
          "b/dlq": {
            kind: "queue-dlq",
            part: "b",
            url: "u2",
            arn: "a2",
            region: "us-west-2",
            sourceArn: "s",
            payloadBucket: BUCKET,
            payloadBucketRegion: "us-east-1",
          },
          "b/delivery-dlq": {
            kind: "subscription-dlq",
            part: "b",
            url: "u3",
            arn: "a3",
            region: "us-east-1",
            payloadBucket: BUCKET,
            payloadBucketRegion: "us-east-1",
          },
        },
      },
    };
    assert.deepEqual(
      stackQueues(args("--subscriber b inspect"), outputs).map((q) => q.id),
      ["b/dlq", "b/delivery-dlq"],
    );
    assert.deepEqual(
      stackQueues(args("--publisher inspect"), outputs).map((q) => q.id),
      ["publisher/failures"],
    );
    assert.throws(
      () => stackQueues(args("--subscriber c inspect"), outputs),
      /--subscriber c: stack dev deploys no subscriber c \(it has: publisher, b\)/,
    );
    assert.throws(
      () => stackQueues(args("--queue b/nope inspect"), outputs),
      /--queue b\/nope: stack dev has no such queue/,
    );
    assert.throws(
      () => stackQueues(args("inspect"), { research: {} }),
      /stack dev has no output messaging.deadLetterQueues/,
    );
    const broken = {
      messaging: {
        deadLetterQueues: { "b/dlq": { ...outputs.messaging.deadLetterQueues["b/dlq"], arn: "" } },
      },
    };
    assert.throws(
      () => stackQueues(args("inspect"), broken),
      /output messaging.deadLetterQueues\["b\/dlq"\].arn is missing/,
    );
  });
});

describe("npm run dlq: arguments", () => {
  const bad = (argv: string[], message: RegExp) =>
    assert.throws(
      () => parseDlqArgs(argv),
      (e: unknown) => e instanceof UsageError && message.test(e.message),
      argv.join(" "),
    );

  it("names the bad flag or value", () => {
    bad([], /a command is required: use inspect or redrive/);
    bad(["--stack", "dev", "purge"], /unknown command "purge"/);
    bad(["inspect"], /give exactly one of --stack NAME or --queue-url URL/);
    bad(
      ["--stack", "dev", "--queue-url", "https://sqs.us-east-1.amazonaws.com/123456789012/q", "inspect"],
      /exactly one of/,
    );
    bad(["--stack", "dev", "--bogus", "inspect"], /unknown flag "--bogus"/);
    bad(["--stack", "dev", "--max", "0", "inspect"], /--max: "0" must be an integer from 1 to 100000/);
    bad(
      ["--stack", "dev", "--hold-seconds", "50000", "inspect"],
      /--hold-seconds: "50000" must be an integer from 30 to 43200/,
    );
    bad(["--stack", "dev", "--rate", "501", "redrive"], /--rate: "501" must be an integer from 1 to 500/);
    bad(["--stack", "dev", "--dry-run", "inspect"], /--dry-run applies to redrive, not inspect/);
    bad(
      ["--stack", "dev", "--expired-to", "queue", "redrive"],
      /--expired-to "queue" is not an SQS queue URL/,
    );
    bad(["--stack", "dev", "--kind", "queue-dlq", "inspect"], /--kind goes with --queue-url, not --stack/);
    bad(["--stack", "dev", "--subscriber", "B!", "inspect"], /--subscriber "B!" is not a subscriber name/);
    bad(
      ["--queue-url", "sqs://q", "--bucket", "b", "inspect"],
      /--queue-url "sqs:\/\/q" is not an SQS queue URL/,
    );
    bad(
      ["--queue-url", "https://sqs.us-east-1.amazonaws.com/123456789012/q", "inspect"],
      /--queue-url needs --bucket/,
    );
    bad(
      [
        "--queue-url",
        "https://sqs.us-east-1.amazonaws.com/123456789012/q",
        "--bucket",
        "b",
        "--kind",
        "topic",
        "inspect",
      ],
      /--kind "topic" is not one of queue-dlq, subscription-dlq, on-failure, publisher-failures/,
    );
    bad(
      [
        "--queue-url",
        "https://sqs.us-east-1.amazonaws.com/123456789012/q",
        "--bucket",
        "b",
        "--region",
        "mars",
        "inspect",
      ],
      /--region "mars" is not an AWS Region/,
    );
    bad(["--stack", "dev", "inspect", "extra"], /unexpected argument "extra"/);
  });

  it("says so when the Pulumi CLI is missing (exit 2)", async () => {
    const missing = () => {
      throw Object.assign(new Error("spawn pulumi ENOENT"), { code: "ENOENT" });
    };
    const errors: string[] = [];
    const original = console.error;
    console.error = (line: string) => errors.push(line);
    try {
      assert.equal(await main(["--stack", "dev", "inspect"], missing), 2);
    } finally {
      console.error = original;
    }
    assert.match(errors.join("\n"), /the Pulumi CLI is not installed/);
  });

  it("the real command: --help exits 0 and a bad argument exits 2 with the usage", function () {
    this.timeout(60_000);
    const root = path.resolve(__dirname, "../..");
    const run = (argv: string[]) =>
      spawnSync(
        process.execPath,
        ["-r", "ts-node/register/transpile-only", "messaging/dlq/cli.ts", ...argv],
        { cwd: root, encoding: "utf8" },
      );
    const help = run(["--help"]);
    assert.equal(help.status, 0, help.stderr);
    assert.match(help.stdout, /^usage: npm run dlq/);
    const wrong = run(["--stack", "dev", "--max", "x", "inspect"]);
    assert.equal(wrong.status, 2);
    assert.match(wrong.stderr, /dlq: --max: "x" must be an integer from 1 to 100000\nusage: npm run dlq/);
  });
});
