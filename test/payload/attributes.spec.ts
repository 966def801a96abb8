// The attribute rules one at a time, at their edges: each refusal names the attribute and what is
// wrong, and each value just inside a rule is accepted (so a rule drawn too wide or too narrow fails
// here before SQS or SNS refuses the message, or a message they would take is refused).
import * as assert from "node:assert/strict";
import { S3Client } from "@aws-sdk/client-s3";
import {
  attributesSize,
  attributesToJson,
  resolveSnsRecord,
  resolveSqsMessage,
  resolveSqsRecord,
  validateUserAttributes,
  PayloadError,
  type MessageAttributes,
  type ReaderOptions,
} from "../../messaging/payload";
import { markerAttribute } from "../../messaging/payload/attributes";

// Parsing never touches S3; a client with no reachable endpoint proves it.
const reader: ReaderOptions = {
  s3: new S3Client({
    region: "us-east-1",
    endpoint: "http://127.0.0.1:9",
    credentials: { accessKeyId: "x", secretAccessKey: "x" },
  }),
  allowedBuckets: ["my-bucket"],
};

function refused(fn: () => unknown, code: string, message: string | RegExp) {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof PayloadError, `not a PayloadError: ${String(e)}`);
    assert.equal(e.code, code);
    if (typeof message === "string") assert.equal(e.message, message);
    else assert.match(e.message, message);
    return true;
  });
}
const str = (StringValue: string, DataType = "String") => ({ DataType, StringValue });
const one = (name: string, value: unknown) => ({ [name]: value }) as MessageAttributes;

describe("user attributes at the edges of each rule", () => {
  it("no attributes is fine; attributes that are not a map are refused", () => {
    validateUserAttributes(undefined);
    validateUserAttributes({});
    for (const bad of ["k=v", null, [str("v")], 7]) {
      refused(
        () => validateUserAttributes(bad as never),
        "InvalidAttribute",
        "attributes must be an object of name → {DataType, StringValue|BinaryValue}",
      );
    }
  });

  it("lists every name when there are too many", () => {
    const ten = Object.fromEntries(Array.from({ length: 10 }, (_, i) => [`a${i}`, str("v")]));
    refused(
      () => validateUserAttributes(ten),
      "InvalidAttribute",
      "at most 9 user attributes are allowed (one of SQS's 10 is the payload marker), got 10: a0, a1, a2, a3, a4, a5, a6, a7, a8, a9",
    );
  });

  it("names: 1 to 256 of [A-Za-z0-9_.-], no leading, trailing or double dot", () => {
    for (const name of ["a", "ab", "trace-id", "x_y.z", "a.b.c", "9", "n".repeat(256), "my.aws.thing"]) {
      validateUserAttributes(one(name, str("v")));
    }
    for (const name of ["", "n".repeat(257), "a b", "!ab", "ab!", "é", ".a", "a.", "a..b"]) {
      refused(
        () => validateUserAttributes(one(name, str("v"))),
        "InvalidAttribute",
        `attribute name "${name}" is invalid: use 1-256 of [A-Za-z0-9_.-], no leading, trailing or double "."`,
      );
    }
  });

  it("values must be objects with a DataType of String, Number or Binary and an optional custom type", () => {
    for (const bad of ["v", null]) {
      refused(
        () => validateUserAttributes(one("k", bad)),
        "InvalidAttribute",
        'attribute "k" must be an object {DataType, ...}',
      );
    }
    for (const type of [
      undefined,
      5,
      ["String"],
      "",
      "Text",
      "XString",
      "string",
      "String.",
      "String.a b",
      "Number.x!",
    ]) {
      refused(
        () => validateUserAttributes(one("k", { DataType: type, StringValue: "1" })),
        "InvalidAttribute",
        `attribute "k" DataType ${JSON.stringify(type)} must be String, Number or Binary`,
      );
    }
    for (const type of ["String", "String.json", "String.a", "Number.int_32", "String.x-y.z"]) {
      validateUserAttributes(one("k", str("1", type)));
    }
  });

  it("Binary types need bytes; String and Number types need a string", () => {
    for (const type of ["Binary", "Binary.png"]) {
      validateUserAttributes(one("k", { DataType: type, BinaryValue: new Uint8Array([0, 1]) }));
      refused(
        () => validateUserAttributes(one("k", { DataType: type, StringValue: "AAE=" })),
        "InvalidAttribute",
        'attribute "k" of DataType Binary needs a BinaryValue (bytes)',
      );
    }
    for (const type of ["String", "Number.int"]) {
      refused(
        () => validateUserAttributes(one("k", { DataType: type, BinaryValue: new Uint8Array([1]) })),
        "InvalidAttribute",
        `attribute "k" of DataType ${type} needs a StringValue`,
      );
    }
  });

  it("Number values: the decimal forms SNS and SQS take, and nothing else", () => {
    for (const n of ["7", "12", "+1", "-1.5", "12.5", "1.", ".5", ".55", "1e5", "1e10", "1E-5", "1.5e+3"]) {
      validateUserAttributes(one("n", str(n, "Number")));
      validateUserAttributes(one("n", str(n, "Number.float")));
    }
    for (const n of ["", "+", "x1", "1x", ".x", "..5", "1.2.3", "1e", "e5", "1e+", "1ee5", "0x10", "1 "]) {
      refused(
        () => validateUserAttributes(one("n", str(n, "Number.float"))),
        "InvalidAttribute",
        `attribute "n" StringValue ${JSON.stringify(n)} is not a number`,
      );
    }
    // A custom String type is free text, even when it ends like another type's name.
    validateUserAttributes(one("s", str("not a number", "String.Number")));
  });
});

describe("attribute bytes, as the size rule counts them", () => {
  it("counts UTF-8 bytes of name, DataType and StringValue, and the raw length of bytes", () => {
    assert.equal(attributesSize(undefined), 0);
    assert.equal(attributesSize({ é: str("€", "String") }), 2 + 6 + 3);
    assert.equal(
      attributesSize({ bin: { DataType: "Binary", BinaryValue: new Uint8Array(10) } }),
      3 + 6 + 10,
    );
    assert.equal(attributesSize({ a: str("xy"), b: str("1", "Number") }), 1 + 6 + 2 + (1 + 6 + 1));
  });
});

describe("the marker the writer sends", () => {
  it("is ExtendedPayloadSize, or SQSLargePayloadSize when asked for the legacy name, a Number of bytes", () => {
    assert.deepEqual({ ...markerAttribute(300000) }, { ExtendedPayloadSize: str("300000", "Number") });
    assert.deepEqual({ ...markerAttribute(5, true) }, { SQSLargePayloadSize: str("5", "Number") });
  });

  it("a received marker that is not a plain decimal count is refused as such", () => {
    const V1 =
      '["software.amazon.payloadoffloading.PayloadS3Pointer",{"s3BucketName":"my-bucket","s3Key":"k"}]';
    for (const value of ["x5", "-5", "5 ", "1.0", "12345678901234567", undefined]) {
      refused(
        () =>
          resolveSqsMessage(
            {
              Body: V1,
              MessageAttributes: { ExtendedPayloadSize: { DataType: "Number", StringValue: value } },
            },
            reader,
          ),
        "InvalidMarker",
        `marker attribute ExtendedPayloadSize must be a decimal byte count, got ${JSON.stringify(value)}`,
      );
    }
  });
});

describe("attributes from Lambda records", () => {
  it("SQS records: strings and bytes (base64) arrive as sent, custom types included", () => {
    const r = resolveSqsRecord(
      {
        messageId: "m",
        body: "x",
        messageAttributes: {
          s: { dataType: "String.json", stringValue: "{}" },
          b: { dataType: "Binary.png", binaryValue: "AAEC" },
          empty: { dataType: "Binary" },
        },
      },
      reader,
    );
    assert.deepEqual(
      { ...attributesToJson(r.attributes) },
      {
        s: { DataType: "String.json", StringValue: "{}" },
        b: { DataType: "Binary.png", BinaryValue: "AAEC" },
        empty: { DataType: "Binary", BinaryValue: "" },
      },
    );
  });

  it("SNS records: the same, from Type and Value", () => {
    const r = resolveSnsRecord(
      {
        Sns: {
          Message: "x",
          MessageAttributes: {
            s: { Type: "String.json", Value: "{}" },
            b: { Type: "Binary.png", Value: "AAEC" },
            n: { Type: "Number", Value: "7" },
            empty: { Type: "Binary" } as never,
          },
        },
      },
      reader,
    );
    assert.deepEqual(Buffer.from(r.attributes.b.BinaryValue!), Buffer.from([0, 1, 2]));
    assert.deepEqual(
      { ...attributesToJson(r.attributes) },
      {
        s: { DataType: "String.json", StringValue: "{}" },
        b: { DataType: "Binary.png", BinaryValue: "AAEC" },
        n: { DataType: "Number", StringValue: "7" },
        empty: { DataType: "Binary", BinaryValue: "" },
      },
    );
  });

  it("an attribute that is not an attribute object is refused, naming it", () => {
    for (const bad of [undefined, null, "v", { stringValue: "v" }]) {
      refused(
        () => resolveSqsRecord({ messageId: "m", body: "x", messageAttributes: { k: bad as never } }, reader),
        "InvalidAttribute",
        'attribute "k" must be {dataType, stringValue|binaryValue}',
      );
    }
    for (const bad of [undefined, null, "v", { Value: "v" }]) {
      refused(
        () => resolveSnsRecord({ Sns: { Message: "x", MessageAttributes: { k: bad as never } } }, reader),
        "InvalidAttribute",
        'attribute "k" must be {Type, Value}',
      );
    }
  });
});
