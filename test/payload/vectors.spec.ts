import * as assert from "node:assert/strict";
import { Readable } from "node:stream";
import {
  attributesSize,
  attributesToJson,
  copyPartSize,
  validatePayloadKey,
  PayloadStream,
  digestPayload,
  formatPointer,
  parsePointer,
  resolveSnsRecord,
  resolveSqsMessage,
  resolveSqsRecord,
  validateKeyPrefix,
  validateUserAttributes,
  PayloadError,
  type ReaderOptions,
} from "../../messaging/payload";
import { S3Client } from "@aws-sdk/client-s3";

// The wire-format vectors (docs/payload.md, "Wire format"), byte for byte.
const V1 =
  '["software.amazon.payloadoffloading.PayloadS3Pointer",{"s3BucketName":"my-bucket","s3Key":"0b7c7a3e-1f5e-4d2a-9a43-3e2b5b8f9c11"}]';
const V2 =
  '["software.amazon.payloadoffloading.PayloadS3Pointer", {"s3BucketName": "my-bucket", "s3Key": "0b7c7a3e-1f5e-4d2a-9a43-3e2b5b8f9c11"}]';
const V3 =
  '["com.amazon.sqs.javamessaging.MessageS3Pointer",{"s3BucketName":"my-bucket","s3Key":"0b7c7a3e-1f5e-4d2a-9a43-3e2b5b8f9c11"}]';
const V4 =
  '["software.amazon.payloadoffloading.PayloadS3Pointer",{"s3BucketName":"my-bucket","s3Key":"tenant-a/payloads/0b7c7a3e-1f5e-4d2a-9a43-3e2b5b8f9c11"}]';
const V5 = '{"s3BucketName":"my-bucket","s3Key":"k"}';
const ENVELOPE =
  '{"Type":"Notification","MessageId":"22b80b92-fdea-4c2c-8f9d-bdfb0c7bf324","TopicArn":"arn:aws:sns:us-east-1:123456789012:my-topic","Message":"[\\"software.amazon.payloadoffloading.PayloadS3Pointer\\",{\\"s3BucketName\\":\\"my-bucket\\",\\"s3Key\\":\\"0b7c7a3e-1f5e-4d2a-9a43-3e2b5b8f9c11\\"}]","Timestamp":"2026-01-01T00:00:00.000Z","SignatureVersion":"1","Signature":"EXAMPLE","SigningCertURL":"https://sns.us-east-1.amazonaws.com/SimpleNotificationService-EXAMPLE.pem","UnsubscribeURL":"https://sns.us-east-1.amazonaws.com/?Action=Unsubscribe&SubscriptionArn=EXAMPLE","MessageAttributes":{"ExtendedPayloadSize":{"Type":"Number","Value":"300000"}}}';
const KEY = "0b7c7a3e-1f5e-4d2a-9a43-3e2b5b8f9c11";
const pointer = { s3BucketName: "my-bucket", s3Key: KEY };

// Parsing never touches S3; a client with no reachable endpoint proves it.
const readerOptions: ReaderOptions = {
  s3: new S3Client({
    region: "us-east-1",
    endpoint: "http://127.0.0.1:9",
    credentials: { accessKeyId: "x", secretAccessKey: "x" },
  }),
  allowedBuckets: ["my-bucket"],
};

function rejects(fn: () => unknown, code: string, pattern: RegExp) {
  assert.throws(fn, (e: unknown) => e instanceof PayloadError && e.code === code && pattern.test(e.message));
}

describe("pointer codec (wire-format vectors)", () => {
  it("writes V1 byte for byte, 130 bytes", () => {
    assert.equal(formatPointer(pointer), V1);
    assert.equal(Buffer.byteLength(V1), 130);
  });

  it("writes V4 with a key prefix, 148 bytes", () => {
    const v4 = formatPointer({ s3BucketName: "my-bucket", s3Key: `tenant-a/payloads/${KEY}` });
    assert.equal(v4, V4);
    assert.equal(Buffer.byteLength(v4), 148);
  });

  it("reads V1 to V4 (Python spacing, legacy class, prefixed key)", () => {
    assert.equal(Buffer.byteLength(V2), 134);
    assert.equal(Buffer.byteLength(V3), 125);
    assert.deepEqual(parsePointer(V1), pointer);
    assert.deepEqual(parsePointer(V2), pointer);
    assert.deepEqual(parsePointer(V3), pointer);
    assert.deepEqual(parsePointer(V4), { s3BucketName: "my-bucket", s3Key: `tenant-a/payloads/${KEY}` });
  });

  it("reads keys in either order and ignores extra fields", () => {
    const text = JSON.stringify([
      "software.amazon.payloadoffloading.PayloadS3Pointer",
      { extra: 1, s3Key: KEY, s3BucketName: "my-bucket" },
    ]);
    assert.deepEqual(parsePointer(text), pointer);
  });

  it("refuses V5 (no array wrapper), saying so", () => {
    rejects(() => parsePointer(V5), "MalformedPointer", /no wrapper/);
  });

  it("refuses other malformed pointers with the rule they break", () => {
    rejects(() => parsePointer("not json"), "MalformedPointer", /not JSON/);
    rejects(
      () => parsePointer('["x.Other",{"s3BucketName":"b","s3Key":"k"}]'),
      "MalformedPointer",
      /class name "x.Other"/,
    );
    rejects(
      () => parsePointer('["software.amazon.payloadoffloading.PayloadS3Pointer",{"s3Key":"k"}]'),
      "MalformedPointer",
      /missing s3BucketName/,
    );
    rejects(
      () =>
        parsePointer('["software.amazon.payloadoffloading.PayloadS3Pointer",{"s3BucketName":"b","s3Key":7}]'),
      "MalformedPointer",
      /s3Key must be a non-empty string, got 7/,
    );
    rejects(
      () => parsePointer('["software.amazon.payloadoffloading.PayloadS3Pointer"]'),
      "MalformedPointer",
      /2 elements/,
    );
    rejects(() => formatPointer({ s3BucketName: "", s3Key: "k" }), "InvalidPointer", /s3BucketName/);
  });
});

describe("size rule vectors", () => {
  const traceId = { traceId: { DataType: "String", StringValue: "abc" } };
  it("counts the traceId attribute as 16 bytes", () => {
    assert.equal(attributesSize(traceId), 16);
    assert.equal(attributesSize({ b: { DataType: "Binary", BinaryValue: new Uint8Array(5) } }), 1 + 6 + 5);
  });
  it('"é".repeat(131072) is 262,144 UTF-8 bytes', () => {
    assert.equal(Buffer.byteLength("é".repeat(131072)), 262_144);
  });
});

describe("key prefix rules", () => {
  it("accepts the allowed characters", () => {
    for (const ok of ["", "orders/", "tenant-a/payloads/", "a.b_c-d/", "x".repeat(988)])
      validateKeyPrefix(ok);
  });
  it("refuses bad prefixes, naming the prefix and the rule", () => {
    rejects(() => validateKeyPrefix("/abs"), "InvalidOption", /"\/abs" must not start with/);
    rejects(() => validateKeyPrefix(".hidden/"), "InvalidOption", /must not start with/);
    rejects(() => validateKeyPrefix("a/../b/"), "InvalidOption", /must not contain "\.\."/);
    rejects(() => validateKeyPrefix("sp ace/"), "InvalidOption", /may only contain/);
    rejects(() => validateKeyPrefix("x".repeat(989)), "InvalidOption", /989 characters, at most 988/);
  });
});

describe("user attribute rules", () => {
  it("refuses the reserved marker names", () => {
    for (const name of ["ExtendedPayloadSize", "SQSLargePayloadSize"]) {
      rejects(
        () => validateUserAttributes({ [name]: { DataType: "Number", StringValue: "1" } }),
        "InvalidAttribute",
        new RegExp(`"${name}" is reserved`),
      );
    }
  });
  it("allows 9 user attributes and refuses 10", () => {
    const attrs = (n: number) =>
      Object.fromEntries(
        Array.from({ length: n }, (_, i) => [`a${i}`, { DataType: "String", StringValue: "v" }]),
      );
    validateUserAttributes(attrs(9));
    rejects(() => validateUserAttributes(attrs(10)), "InvalidAttribute", /at most 9 user attributes.*got 10/);
  });
  it("refuses a string value with a character SQS refuses, naming it (a body can be offloaded, an attribute cannot)", () => {
    rejects(
      () => validateUserAttributes({ note: { DataType: "String", StringValue: "ok\u0000" } }),
      "InvalidAttribute",
      /"note" StringValue has U\+0000 at index 2/,
    );
    rejects(
      () => validateUserAttributes({ n: { DataType: "String.json", StringValue: "\uFFFE" } }),
      "InvalidAttribute",
      /U\+FFFE at index 0/,
    );
    validateUserAttributes({ ok: { DataType: "String", StringValue: "tab\tnewline\n😀" } });
  });

  it("refuses bad data types and missing values", () => {
    rejects(
      () => validateUserAttributes({ a: { DataType: "Text", StringValue: "v" } }),
      "InvalidAttribute",
      /"a" DataType "Text"/,
    );
    rejects(
      () => validateUserAttributes({ a: { DataType: "Number", StringValue: "x1" } }),
      "InvalidAttribute",
      /not a number/,
    );
    rejects(
      () => validateUserAttributes({ a: { DataType: "Binary" } }),
      "InvalidAttribute",
      /needs a BinaryValue/,
    );
  });
});

describe("readers parse every delivery shape without touching S3", () => {
  it("SQS ReceiveMessage with either marker name", () => {
    for (const marker of ["ExtendedPayloadSize", "SQSLargePayloadSize"]) {
      const r = resolveSqsMessage(
        {
          MessageId: "m1",
          Body: V1,
          MessageAttributes: {
            [marker]: { DataType: "Number", StringValue: "300000" },
            k: { DataType: "String", StringValue: "v" },
          },
        },
        readerOptions,
      );
      assert.equal(r.offloaded, true);
      assert.deepEqual(r.pointer, pointer);
      assert.equal(r.size, 300000);
      assert.deepEqual(Object.keys(r.attributes), ["k"]);
    }
  });

  it("SQS → Lambda record and SNS → Lambda record", () => {
    const sqs = resolveSqsRecord(
      {
        messageId: "m",
        body: V3,
        messageAttributes: { SQSLargePayloadSize: { dataType: "Number", stringValue: "5" } },
      },
      readerOptions,
    );
    assert.deepEqual([sqs.offloaded, sqs.size, sqs.pointer], [true, 5, pointer]);
    const sns = resolveSnsRecord(
      {
        Sns: {
          MessageId: "n",
          Message: V2,
          MessageAttributes: {
            ExtendedPayloadSize: { Type: "Number", Value: "7" },
            bin: { Type: "Binary", Value: "AAE=" },
          },
        },
      },
      readerOptions,
    );
    assert.deepEqual([sns.offloaded, sns.size, sns.messageId], [true, 7, "n"]);
    assert.deepEqual(Buffer.from(sns.attributes.bin.BinaryValue!), Buffer.from([0, 1]));
  });

  it('the SNS envelope resolves with sqsDelivery "envelope", and is refused, naming raw delivery, without it', () => {
    const on = resolveSqsMessage(
      { MessageId: "e", Body: ENVELOPE },
      { ...readerOptions, sqsDelivery: "envelope" },
    );
    assert.deepEqual([on.offloaded, on.size, on.pointer], [true, 300000, pointer]);
    assert.throws(
      () => resolveSqsMessage({ MessageId: "e", Body: ENVELOPE }, readerOptions),
      (err: Error) =>
        err instanceof PayloadError &&
        err.code === "UnexpectedEnvelope" &&
        /message e: .*SNS notification envelope \(TopicArn arn:aws:sns:us-east-1:123456789012:my-topic\).*sqsDelivery "envelope" if RawMessageDelivery is off/.test(
          err.message,
        ),
    );
    assert.throws(
      () => resolveSqsRecord({ messageId: "r", body: ENVELOPE }, readerOptions),
      (err: Error) => err instanceof PayloadError && err.code === "UnexpectedEnvelope",
    );
  });

  it('with sqsDelivery "raw" a body that is SNS-notification JSON is the payload, byte for byte, never unwrapped', async () => {
    const r = resolveSqsRecord(
      {
        messageId: "raw",
        body: ENVELOPE,
        messageAttributes: { traceId: { dataType: "String", stringValue: "abc" } },
      },
      { ...readerOptions, sqsDelivery: "raw" },
    );
    assert.deepEqual([r.offloaded, r.size, r.pointer], [false, Buffer.byteLength(ENVELOPE), null]);
    assert.equal(await r.text(), ENVELOPE);
    assert.deepEqual(Object.keys(r.attributes), ["traceId"]);
  });

  it('with sqsDelivery "envelope" a body that is not an envelope is refused, not taken for the payload', () => {
    rejects(
      () =>
        resolveSqsRecord(
          { messageId: "plain", body: "hello" },
          { ...readerOptions, sqsDelivery: "envelope" },
        ),
      "MalformedEnvelope",
      /message plain: the subscription delivers SNS envelopes .* is not an SNS notification/,
    );
    rejects(
      () =>
        resolveSqsRecord(
          { messageId: "x", body: "hello" },
          { ...readerOptions, sqsDelivery: "Raw" as unknown as "raw" },
        ),
      "InvalidOption",
      /sqsDelivery must be "raw" or "envelope", got "Raw"/,
    );
  });

  it("an SNS → Lambda message is never taken for an envelope: its body is the payload as published", () => {
    const r = resolveSnsRecord({ Sns: { MessageId: "n", Message: ENVELOPE } }, readerOptions);
    assert.deepEqual([r.offloaded, r.size], [false, Buffer.byteLength(ENVELOPE)]);
  });

  it("a message without a marker is inline even if its body looks like a pointer", async () => {
    const r = resolveSqsMessage({ MessageId: "i", Body: V1 }, readerOptions);
    assert.equal(r.offloaded, false);
    assert.equal(await r.text(), V1);
  });

  it("refuses a bucket outside the allow-list at parse time", () => {
    const body = formatPointer({ s3BucketName: "someone-elses", s3Key: "k" });
    rejects(
      () =>
        resolveSqsMessage(
          {
            Body: body,
            MessageAttributes: { ExtendedPayloadSize: { DataType: "Number", StringValue: "1" } },
          },
          readerOptions,
        ),
      "BucketNotAllowed",
      /"someone-elses", which is not in the allow-list \[my-bucket\]/,
    );
  });

  it("previews text, dropping only a character cut by the limit; a NUL byte means binary", async () => {
    const inline = (body: string) => resolveSqsRecord({ messageId: "p", body }, readerOptions);
    assert.equal((await digestPayload(inline("é".repeat(10)), 5)).preview, "éé");
    assert.equal((await digestPayload(inline("hello"), 16)).preview, "hello");
    assert.equal((await digestPayload(inline("a\u0000b"), 16)).preview, undefined, "NUL means binary");
  });

  it("refuses an SQS record attribute without a dataType, naming it", () => {
    rejects(
      () =>
        resolveSqsRecord(
          { messageId: "m", body: "x", messageAttributes: { traceId: {} as never } },
          readerOptions,
        ),
      "InvalidAttribute",
      /attribute "traceId" must be \{dataType/,
    );
  });

  it("refuses a bad marker value and a marker with 10 user attributes", () => {
    rejects(
      () =>
        resolveSqsMessage(
          {
            Body: V1,
            MessageAttributes: { ExtendedPayloadSize: { DataType: "Number", StringValue: "12kb" } },
          },
          readerOptions,
        ),
      "InvalidMarker",
      /ExtendedPayloadSize must be a decimal byte count, got "12kb"/,
    );
    const many = Object.fromEntries(
      Array.from({ length: 10 }, (_, i) => [`a${i}`, { DataType: "String", StringValue: "v" }]),
    );
    rejects(
      () =>
        resolveSqsMessage(
          {
            Body: V1,
            MessageAttributes: { ...many, ExtendedPayloadSize: { DataType: "Number", StringValue: "1" } },
          },
          readerOptions,
        ),
      "InvalidAttribute",
      /10 user attributes/,
    );
  });
});

describe("payload location: the whole of bucket and key is checked before any S3 call", () => {
  const marker = { ExtendedPayloadSize: { DataType: "Number", StringValue: "1" } };
  const resolveKey = (s3Key: string, options: Partial<ReaderOptions> = {}) =>
    resolveSqsMessage(
      { Body: formatPointer({ s3BucketName: "my-bucket", s3Key }), MessageAttributes: marker },
      { ...readerOptions, ...options },
    );

  it("refuses keys that climb out of the bucket or could be decoded into another key", () => {
    const attacks: [string, RegExp][] = [
      ["../other-bucket/secret", /"\.\." path segment/],
      ["payloads/../../x", /"\.\." path segment/],
      ["payloads/./x", /"\." path segment/],
      ["./x", /"\." path segment/],
      ["..", /"\.\." path segment/],
      ["/other-bucket/x", /empty path segment/],
      ["payloads//x", /empty path segment/],
      ["payloads/", /empty path segment/],
      ["payloads\\..\\x", /backslash/],
      ["payloads/%2e%2e/x", /percent escape/],
      ["payloads/%2F..", /percent escape/],
      ["payloads/\u0000x", /control character/],
      ["payloads/x\u0085", /control character/],
      ["payloads/\uff0e\uff0e/x", /may only contain/],
      ["payloads/a b", /may only contain/],
      ["payloads/?x", /may only contain/],
      [`payloads/${"k".repeat(1020)}`, /longer than S3's 1024 bytes/],
    ];
    for (const [key, rule] of attacks) rejects(() => resolveKey(key), "UnsafeKey", rule);
    // Also when the stream is opened directly, and for keys a reader might be handed another way.
    rejects(() => validatePayloadKey("a/../b"), "UnsafeKey", /pointer s3Key "a\/..\/b" is refused/);
  });

  it("accepts the keys the writers produce, dots inside a name included", () => {
    for (const key of [KEY, `tenant-a/payloads/${KEY}`, "payloads/v1.2/x..y", `payloads/${"k".repeat(1015)}`])
      assert.equal(resolveKey(key).pointer?.s3Key, key);
  });

  it("matches the bucket by exact name, never by prefix or case", () => {
    for (const bucket of ["my-bucket-evil", "my-bucke", "My-bucket", "my-bucket.evil", " my-bucket"]) {
      rejects(
        () =>
          resolveSqsMessage(
            { Body: formatPointer({ s3BucketName: bucket, s3Key: KEY }), MessageAttributes: marker },
            readerOptions,
          ),
        "BucketNotAllowed",
        /not in the allow-list \[my-bucket\]/,
      );
    }
  });

  it("restricts keys to the allowed prefixes when given, and refuses bad prefixes in the options", () => {
    const payloadsOnly = { allowedKeyPrefixes: ["payloads/"] };
    assert.equal(resolveKey(`payloads/${KEY}`, payloadsOnly).offloaded, true);
    for (const key of [KEY, "payloads-evil/x", "incoming/payloads/x", "Payloads/x"]) {
      rejects(
        () => resolveKey(key, payloadsOnly),
        "KeyNotAllowed",
        /under none of the allowed key prefixes \[payloads\/\]/,
      );
    }
    rejects(() => resolveKey(KEY, { allowedKeyPrefixes: [""] }), "InvalidOption", /must be non-empty/);
    rejects(
      () => resolveKey(KEY, { allowedKeyPrefixes: ["../"] }),
      "InvalidOption",
      /allowedKeyPrefixes: keyPrefix "..\/" must not start with/,
    );
  });
});

describe("marker and attribute names from a message are data", () => {
  it("refuses a marker value beyond 2^53 instead of rounding it, and accepts the largest safe one", () => {
    const withMarker = (value: string) =>
      resolveSqsMessage(
        { Body: V1, MessageAttributes: { ExtendedPayloadSize: { DataType: "Number", StringValue: value } } },
        readerOptions,
      );
    rejects(
      () => withMarker("9007199254740993"),
      "InvalidMarker",
      /9007199254740993 is beyond 9007199254740991/,
    );
    rejects(() => withMarker("9999999999999999"), "InvalidMarker", /beyond/);
    assert.equal(withMarker("9007199254740991").size, Number.MAX_SAFE_INTEGER);
  });

  it("refuses two markers that disagree, and takes two that agree", () => {
    const both = (a: string, b: string) =>
      resolveSqsMessage(
        {
          Body: V1,
          MessageAttributes: {
            ExtendedPayloadSize: { DataType: "Number", StringValue: a },
            SQSLargePayloadSize: { DataType: "Number", StringValue: b },
          },
        },
        readerOptions,
      );
    rejects(
      () => both("300000", "300001"),
      "InvalidMarker",
      /both marker attributes are present and disagree \(300000 and 300001\)/,
    );
    assert.equal(both("300000", "300000").size, 300000);
    assert.deepEqual(Object.keys(both("7", "7").attributes), []);
  });

  it("keeps attributes named __proto__ and constructor on every delivery path", async () => {
    const names = ["__proto__", "constructor", "toString"];
    const sqsAttrs = JSON.parse(
      `{${names.map((n) => `"${n}":{"dataType":"String","stringValue":"v-${n}"}`).join(",")}}`,
    );
    const snsAttrs = JSON.parse(
      `{${names.map((n) => `"${n}":{"Type":"String","Value":"v-${n}"}`).join(",")}}`,
    );
    const sdkAttrs = JSON.parse(
      `{${names.map((n) => `"${n}":{"DataType":"String","StringValue":"v-${n}"}`).join(",")}}`,
    );
    const resolvedAll = [
      resolveSqsRecord({ messageId: "m", body: "x", messageAttributes: sqsAttrs }, readerOptions),
      resolveSnsRecord({ Sns: { MessageId: "n", Message: "x", MessageAttributes: snsAttrs } }, readerOptions),
      resolveSqsMessage({ MessageId: "q", Body: "x", MessageAttributes: sdkAttrs }, readerOptions),
    ];
    for (const r of resolvedAll) {
      assert.deepEqual(Object.keys(r.attributes).sort(), [...names].sort());
      assert.equal(r.attributes["__proto__"].StringValue, "v-__proto__");
      const json = JSON.parse(JSON.stringify(attributesToJson(r.attributes)));
      assert.deepEqual(Object.keys(json).sort(), [...names].sort(), "the downstream summary keeps them too");
    }
  });

  it("refuses the aws. and amazon. prefixes AWS reserves, in any letter case", () => {
    for (const name of ["aws.trace", "AWS.trace", "aWs.x", "amazon.x", "Amazon.x", "AMAZON.x"]) {
      rejects(
        () => validateUserAttributes({ [name]: { DataType: "String", StringValue: "v" } }),
        "InvalidAttribute",
        /uses a prefix reserved by AWS/,
      );
    }
    validateUserAttributes({
      "awsx.y": { DataType: "String", StringValue: "v" },
      amazonas: { DataType: "String", StringValue: "v" },
    });
  });
});

describe("server-side copy part plan", () => {
  const MiB = 1024 * 1024;
  const parts = (size: number) => Math.ceil(size / copyPartSize(size));

  it("keeps 512 MiB parts while 10,000 of them cover the source", () => {
    assert.equal(copyPartSize(6 * 1024 * MiB), 512 * MiB);
    assert.equal(copyPartSize(10_000 * 512 * MiB), 512 * MiB);
    assert.equal(parts(10_000 * 512 * MiB), 10_000);
  });

  it("grows parts by whole MiB past 10,000 × 512 MiB, so S3's largest object copies in ≤ 10,000 parts", () => {
    assert.equal(copyPartSize(10_000 * 512 * MiB + 1), 513 * MiB);
    assert.ok(parts(10_000 * 512 * MiB + 1) <= 10_000);
    const fiveTiB = 5 * 1024 * 1024 * MiB;
    assert.equal(copyPartSize(fiveTiB), 525 * MiB);
    assert.equal(parts(fiveTiB), 9_987);
    for (const size of [fiveTiB - 1, 7_000 * 700 * MiB + 3]) {
      const part = copyPartSize(size);
      assert.ok(parts(size) <= 10_000 && part >= 5 * MiB && part <= 5 * 1024 * MiB, `size ${size}`);
    }
  });

  it("refuses a source larger than S3's 5 TiB object limit", () => {
    rejects(() => copyPartSize(5 * 1024 * 1024 * MiB + 1), "TooLarge", /at most 5497558138880 \(5 TiB\)/);
  });
});

describe("PayloadStream bounds the read while it streams, not at its end", () => {
  async function outcome(
    make: (source: Readable) => PayloadStream,
    chunks: Buffer[],
  ): Promise<{ passed: number; error?: PayloadError }> {
    const stream = make(Readable.from(chunks));
    let passed = 0;
    stream.on("data", (c: Buffer) => (passed += c.length));
    const done = new Promise<PayloadError | undefined>((resolve) => {
      stream.on("error", (e) => resolve(e as PayloadError));
      stream.on("end", () => resolve(undefined));
    });
    return { passed, error: await done };
  }

  it("fails at the first chunk past the marker's size, and past maxBytes", async () => {
    const chunk = Buffer.alloc(1024, 1);
    const overSize = await outcome(
      (source) => new PayloadStream(source, undefined, 1500, "s3://b/k"),
      [chunk, chunk, chunk, chunk],
    );
    assert.equal(overSize.error?.code, "SizeMismatch");
    assert.match(overSize.error!.message, /more than the 1500 bytes the marker says arrived \(2048 so far\)/);
    assert.ok(overSize.passed <= 1024, `no byte past the claim is handed on (${overSize.passed} were)`);
    const overMax = await outcome(
      (source) => new PayloadStream(source, undefined, undefined, "s3://b/k", 1000),
      [chunk],
    );
    assert.equal(overMax.error?.code, "TooLarge");
    assert.equal(overMax.passed, 0);
  });
});
