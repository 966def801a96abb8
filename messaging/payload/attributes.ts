// Message attributes: the marker that flags an offloaded payload, the user-attribute rules the
// extended clients enforce, the size rule, and conversion between the shapes each delivery path uses.
import { PayloadError } from "./errors";

/** Marker written by the SNS Java client, both Python clients, and this library by default. */
export const MARKER_ATTRIBUTE = "ExtendedPayloadSize";
/** Marker the SQS Java client still writes by default. Accepted on read; a writer option. */
export const LEGACY_MARKER_ATTRIBUTE = "SQSLargePayloadSize";
/**
 * Both marker names. Pass them in ReceiveMessage `MessageAttributeNames`: SQS returns only the
 * attributes asked for, so a receiver that does not ask never sees that a message was offloaded.
 */
export const MARKER_ATTRIBUTE_NAMES: readonly string[] = [MARKER_ATTRIBUTE, LEGACY_MARKER_ATTRIBUTE];

/** SQS allows 10 attributes per message; the marker takes one. */
export const MAX_USER_ATTRIBUTES = 9;

/** A message attribute in the SDK's SNS/SQS input shape (also what readers return). */
export interface MessageAttribute {
  /** "String", "Number" or "Binary", optionally with a custom suffix such as "String.json". */
  DataType: string;
  StringValue?: string;
  BinaryValue?: Uint8Array;
}
export type MessageAttributes = Record<string, MessageAttribute>;

/**
 * An empty attribute map with no prototype. Attribute names are data: "__proto__" and "constructor"
 * are valid names, and on a plain object `map["__proto__"] = value` sets the prototype instead of
 * adding the attribute, which then silently disappears.
 *
 * @example
 * const attributes = attributeMap(); // no prototype: an attribute named "__proto__" stays an attribute
 * attributes.traceId = { DataType: "String", StringValue: "abc" };
 */
export function attributeMap<T = MessageAttribute>(): Record<string, T> {
  return Object.create(null) as Record<string, T>;
}

/**
 * Characters outside those SQS accepts in a body (the XML 1.0 Char production): #x9 | #xA | #xD |
 * #x20-#xD7FF | #xE000-#xFFFD | #x10000-#x10FFFF. SendMessage refuses others with
 * InvalidMessageContents (older documentation said SQS replaced them with U+FFFD instead), and SNS,
 * which accepts them at Publish, then cannot deliver to SQS subscriptions. SNS gives string
 * attribute values the body's restrictions.
 * https://docs.aws.amazon.com/AWSSimpleQueueService/latest/APIReference/API_SendMessage.html
 * https://docs.aws.amazon.com/sns/latest/api/API_MessageAttributeValue.html
 */
export const OUTSIDE_MESSAGE_CHARACTERS = /[^\t\n\r\x20-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/u;

const DATA_TYPE = /^(String|Number|Binary)(\.[A-Za-z0-9_.-]+)?$/;
const NAME = /^[A-Za-z0-9_.-]{1,256}$/;

/**
 * Checks user attributes before anything is uploaded, so a bad message costs no S3 request.
 * @throws PayloadError (InvalidAttribute) naming the attribute and what is wrong with it.
 *
 * @example
 * validateUserAttributes({ "AWS.x": { DataType: "String", StringValue: "1" } });
 * // throws PayloadError (InvalidAttribute): attribute name "AWS.x" uses a prefix reserved by AWS
 */
export function validateUserAttributes(attributes: MessageAttributes | undefined): void {
  if (attributes === undefined) return;
  if (typeof attributes !== "object" || attributes === null || Array.isArray(attributes)) {
    throw new PayloadError(
      "InvalidAttribute",
      "attributes must be an object of name → {DataType, StringValue|BinaryValue}",
    );
  }
  const names = Object.keys(attributes);
  if (names.length > MAX_USER_ATTRIBUTES) {
    throw new PayloadError(
      "InvalidAttribute",
      `at most ${MAX_USER_ATTRIBUTES} user attributes are allowed (one of SQS's 10 is the payload marker), got ${names.length}: ${names.join(", ")}`,
    );
  }
  for (const name of names) {
    if (MARKER_ATTRIBUTE_NAMES.includes(name)) {
      throw new PayloadError(
        "InvalidAttribute",
        `attribute name "${name}" is reserved for the payload marker`,
      );
    }
    if (!NAME.test(name) || name.startsWith(".") || name.endsWith(".") || name.includes("..")) {
      throw new PayloadError(
        "InvalidAttribute",
        `attribute name "${name}" is invalid: use 1-256 of [A-Za-z0-9_.-], no leading, trailing or double "."`,
      );
    }
    if (/^(aws|amazon)\./i.test(name)) {
      throw new PayloadError("InvalidAttribute", `attribute name "${name}" uses a prefix reserved by AWS`);
    }
    const value = attributes[name];
    if (typeof value !== "object" || value === null) {
      throw new PayloadError("InvalidAttribute", `attribute "${name}" must be an object {DataType, ...}`);
    }
    if (typeof value.DataType !== "string" || !DATA_TYPE.test(value.DataType)) {
      throw new PayloadError(
        "InvalidAttribute",
        `attribute "${name}" DataType ${JSON.stringify(value.DataType)} must be String, Number or Binary`,
      );
    }
    if (value.DataType.startsWith("Binary")) {
      if (!(value.BinaryValue instanceof Uint8Array)) {
        throw new PayloadError(
          "InvalidAttribute",
          `attribute "${name}" of DataType Binary needs a BinaryValue (bytes)`,
        );
      }
    } else {
      if (typeof value.StringValue !== "string") {
        throw new PayloadError(
          "InvalidAttribute",
          `attribute "${name}" of DataType ${value.DataType} needs a StringValue`,
        );
      }
      // A body with such characters can be offloaded; an attribute cannot, so it is refused here.
      const bad = OUTSIDE_MESSAGE_CHARACTERS.exec(value.StringValue);
      if (bad) {
        throw new PayloadError(
          "InvalidAttribute",
          `attribute "${name}" StringValue has U+${bad[0].codePointAt(0)!.toString(16).toUpperCase().padStart(4, "0")} at index ${bad.index}, a character SQS refuses; use a Binary attribute`,
        );
      }
      if (
        value.DataType.startsWith("Number") &&
        !/^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(value.StringValue)
      ) {
        throw new PayloadError(
          "InvalidAttribute",
          `attribute "${name}" StringValue ${JSON.stringify(value.StringValue)} is not a number`,
        );
      }
    }
  }
}

/**
 * Bytes the attributes add to a message, as the extended clients count them: UTF-8 of name, DataType
 * and StringValue, plus the raw length of a BinaryValue. The marker is not counted.
 *
 * @example attributesSize({ traceId: { DataType: "String", StringValue: "abc" } }); // 16 (7 + 6 + 3 bytes)
 */
export function attributesSize(attributes: MessageAttributes | undefined): number {
  let size = 0;
  for (const [name, value] of Object.entries(attributes ?? {})) {
    // Buffer.byteLength counts UTF-8 unless told otherwise.
    size += Buffer.byteLength(name) + Buffer.byteLength(value.DataType);
    if (value.StringValue !== undefined) size += Buffer.byteLength(value.StringValue);
    if (value.BinaryValue !== undefined) size += value.BinaryValue.byteLength;
  }
  return size;
}

/** The marker attribute for a payload of `size` bytes. */
export function markerAttribute(size: number, legacy = false): MessageAttributes {
  const marker = attributeMap();
  marker[legacy ? LEGACY_MARKER_ATTRIBUTE : MARKER_ATTRIBUTE] = {
    DataType: "Number",
    StringValue: String(size),
  };
  return marker;
}

/**
 * Splits received attributes into the marker's size (undefined when the message is inline) and the
 * user attributes.
 * @throws PayloadError (InvalidMarker) when a marker is present but is not a non-negative integer.
 */
export function splitMarker(attributes: MessageAttributes): { markerSize?: number; user: MessageAttributes } {
  const user = attributeMap();
  let markerSize: number | undefined;
  for (const [name, value] of Object.entries(attributes)) {
    if (!MARKER_ATTRIBUTE_NAMES.includes(name)) {
      user[name] = value;
      continue;
    }
    // Stryker disable next-line StringLiteral: any text the pattern refuses gives the same refusal, which quotes StringValue itself.
    const text = value.StringValue ?? "";
    if (!/^\d{1,16}$/.test(text)) {
      throw new PayloadError(
        "InvalidMarker",
        `marker attribute ${name} must be a decimal byte count, got ${JSON.stringify(value.StringValue)}`,
      );
    }
    // Past 2^53 a Number rounds, and the size check would compare against a value nobody sent.
    if (!Number.isSafeInteger(Number(text))) {
      throw new PayloadError(
        "InvalidMarker",
        `marker attribute ${name} value ${text} is beyond ${Number.MAX_SAFE_INTEGER}, the largest byte count read exactly`,
      );
    }
    if (markerSize !== undefined && markerSize !== Number(text)) {
      throw new PayloadError(
        "InvalidMarker",
        `both marker attributes are present and disagree (${markerSize} and ${text})`,
      );
    }
    markerSize = Number(text);
  }
  return { markerSize, user };
}

/** SQS → Lambda record attribute shape. */
export interface LambdaSqsAttribute {
  dataType: string;
  stringValue?: string;
  binaryValue?: string;
}
/** SNS → Lambda record and SNS JSON envelope attribute shape (binary values are base64). */
export interface SnsJsonAttribute {
  Type: string;
  Value: string;
}

export function fromLambdaSqsAttributes(
  attrs: Record<string, LambdaSqsAttribute> | undefined,
): MessageAttributes {
  const out = attributeMap();
  for (const [name, a] of Object.entries(attrs ?? {})) {
    if (typeof a !== "object" || a === null || typeof a.dataType !== "string") {
      throw new PayloadError(
        "InvalidAttribute",
        `attribute "${name}" must be {dataType, stringValue|binaryValue}`,
      );
    }
    out[name] = a.dataType.startsWith("Binary")
      ? { DataType: a.dataType, BinaryValue: Buffer.from(a.binaryValue ?? "", "base64") }
      : { DataType: a.dataType, StringValue: a.stringValue };
  }
  return out;
}

export function fromSnsJsonAttributes(
  attrs: Record<string, SnsJsonAttribute> | undefined,
): MessageAttributes {
  const out = attributeMap();
  for (const [name, a] of Object.entries(attrs ?? {})) {
    if (typeof a !== "object" || a === null || typeof a.Type !== "string") {
      throw new PayloadError("InvalidAttribute", `attribute "${name}" must be {Type, Value}`);
    }
    out[name] = a.Type.startsWith("Binary")
      ? { DataType: a.Type, BinaryValue: Buffer.from(a.Value ?? "", "base64") }
      : { DataType: a.Type, StringValue: a.Value };
  }
  return out;
}

/**
 * JSON-friendly form (binary as base64), for logs and downstream summaries.
 *
 * @example
 * attributesToJson({ blob: { DataType: "Binary", BinaryValue: Buffer.from("hi") } });
 * // {blob: {DataType: "Binary", BinaryValue: "aGk="}}
 */
export function attributesToJson(
  attributes: MessageAttributes,
): Record<string, { DataType: string; StringValue?: string; BinaryValue?: string }> {
  const out = attributeMap<{ DataType: string; StringValue?: string; BinaryValue?: string }>();
  for (const [name, a] of Object.entries(attributes)) {
    out[name] =
      a.BinaryValue !== undefined
        ? { DataType: a.DataType, BinaryValue: Buffer.from(a.BinaryValue).toString("base64") }
        : { DataType: a.DataType, StringValue: a.StringValue };
  }
  return out;
}
