// The pointer codec's refusals, one rule at a time. Each case asserts the whole message, not a
// fragment: a reader of a dead-letter queue only has that text to tell which field was wrong.
import * as assert from "node:assert/strict";
import {
  formatPointer,
  parsePointer,
  PayloadError,
  POINTER_CLASS,
  LEGACY_POINTER_CLASS,
  type PayloadPointer,
} from "../../messaging/payload";

function refused(fn: () => unknown, code: string, message: string) {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof PayloadError, `expected a PayloadError, got ${String(e)}`);
    assert.equal(e.name, "PayloadError");
    assert.equal(e.code, code);
    assert.equal(e.message, message);
    return true;
  });
}

const CLASS = JSON.stringify(POINTER_CLASS);
/** A pointer body whose second element is `fields`, written as the Java client would. */
const body = (fields: unknown) => `[${CLASS},${JSON.stringify(fields)}]`;

describe("pointer codec: formatPointer refusals", () => {
  it("refuses an empty or non-string s3BucketName, naming the field and the value", () => {
    refused(
      () => formatPointer({ s3BucketName: "", s3Key: "k" }),
      "InvalidPointer",
      'pointer s3BucketName must be a non-empty string, got ""',
    );
    refused(
      () => formatPointer({ s3BucketName: 7, s3Key: "k" } as unknown as PayloadPointer),
      "InvalidPointer",
      "pointer s3BucketName must be a non-empty string, got 7",
    );
  });

  it("refuses an empty, missing or non-string s3Key, naming the field and the value", () => {
    refused(
      () => formatPointer({ s3BucketName: "b", s3Key: "" }),
      "InvalidPointer",
      'pointer s3Key must be a non-empty string, got ""',
    );
    refused(
      () => formatPointer({ s3BucketName: "b" } as unknown as PayloadPointer),
      "InvalidPointer",
      "pointer s3Key must be a non-empty string, got undefined",
    );
    refused(
      () => formatPointer({ s3BucketName: "b", s3Key: null } as unknown as PayloadPointer),
      "InvalidPointer",
      "pointer s3Key must be a non-empty string, got null",
    );
  });

  it("writes one-character fields (the emptiness rule is length 0, not 1)", () => {
    assert.equal(
      formatPointer({ s3BucketName: "b", s3Key: "k" }),
      `[${CLASS},{"s3BucketName":"b","s3Key":"k"}]`,
    );
  });
});

describe("pointer codec: parsePointer refusals", () => {
  it("refuses input that is not a string, saying its type", () => {
    for (const [input, type] of [
      [null, "object"],
      [undefined, "undefined"],
      [42, "number"],
      [{ s3BucketName: "b", s3Key: "k" }, "object"],
    ] as const) {
      refused(
        () => parsePointer(input as unknown as string),
        "MalformedPointer",
        `pointer must be a string, got ${type}`,
      );
    }
  });

  it("refuses text that is not JSON, quoting it", () => {
    refused(() => parsePointer(""), "MalformedPointer", 'pointer is not JSON: ""');
    refused(() => parsePointer("[oops"), "MalformedPointer", 'pointer is not JSON: "[oops"');
  });

  it("quotes at most 200 characters of the text, marking the cut", () => {
    const exactly200 = "x".repeat(200);
    refused(() => parsePointer(exactly200), "MalformedPointer", `pointer is not JSON: "${exactly200}"`);
    refused(
      () => parsePointer(`${exactly200}yz`),
      "MalformedPointer",
      `pointer is not JSON: "${exactly200}…"`,
    );
  });

  it("refuses JSON that is not an array", () => {
    for (const text of ["null", "7", '"text"', '{"s3BucketName":"b","s3Key":"k"}']) {
      refused(
        () => parsePointer(text),
        "MalformedPointer",
        `pointer must be a JSON array [className, {s3BucketName, s3Key}] (no wrapper found): ${JSON.stringify(text)}`,
      );
    }
  });

  it("refuses an array without exactly 2 elements, saying how many it has", () => {
    for (const items of [[], [POINTER_CLASS], [POINTER_CLASS, { s3BucketName: "b", s3Key: "k" }, "extra"]]) {
      const text = JSON.stringify(items);
      refused(
        () => parsePointer(text),
        "MalformedPointer",
        `pointer array must have 2 elements, has ${items.length}: ${JSON.stringify(text)}`,
      );
    }
  });

  it("refuses an unknown class name, quoting it and naming both accepted ones", () => {
    for (const name of ["x.Other", null, 3, ""]) {
      refused(
        () => parsePointer(JSON.stringify([name, { s3BucketName: "b", s3Key: "k" }])),
        "MalformedPointer",
        `pointer class name ${JSON.stringify(name)} is not ${POINTER_CLASS} or ${LEGACY_POINTER_CLASS}`,
      );
    }
  });

  it("refuses a second element that is not an object: null, an array, a string, a number", () => {
    for (const fields of [null, ["b", "k"], [], "b/k", 5]) {
      const text = body(fields);
      refused(
        () => parsePointer(text),
        "MalformedPointer",
        `pointer second element must be an object: ${JSON.stringify(text)}`,
      );
    }
  });

  it("refuses a missing field, naming it", () => {
    const noKey = body({ s3BucketName: "b" });
    refused(
      () => parsePointer(noKey),
      "MalformedPointer",
      `pointer is missing s3Key: ${JSON.stringify(noKey)}`,
    );
    const neither = body({});
    refused(
      () => parsePointer(neither),
      "MalformedPointer",
      `pointer is missing s3BucketName: ${JSON.stringify(neither)}`,
    );
  });

  it("refuses an empty, null or non-string field, naming the field and the value", () => {
    for (const [fields, message] of [
      [{ s3BucketName: "", s3Key: "k" }, 'pointer s3BucketName must be a non-empty string, got ""'],
      [{ s3BucketName: null, s3Key: "k" }, "pointer s3BucketName must be a non-empty string, got null"],
      [{ s3BucketName: ["b"], s3Key: "k" }, 'pointer s3BucketName must be a non-empty string, got ["b"]'],
      [{ s3BucketName: "b", s3Key: "" }, 'pointer s3Key must be a non-empty string, got ""'],
      [{ s3BucketName: "b", s3Key: false }, "pointer s3Key must be a non-empty string, got false"],
      [{ s3BucketName: "b", s3Key: { k: 1 } }, 'pointer s3Key must be a non-empty string, got {"k":1}'],
    ] as const) {
      refused(() => parsePointer(body(fields)), "MalformedPointer", message);
    }
  });

  it("reads one-character fields under either class name", () => {
    const fields = { s3BucketName: "b", s3Key: "k" };
    assert.deepEqual(parsePointer(body(fields)), fields);
    assert.deepEqual(parsePointer(JSON.stringify([LEGACY_POINTER_CLASS, fields])), fields);
  });
});
