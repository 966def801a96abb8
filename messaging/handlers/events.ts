// The events the handlers take, as valibot schemas (the helpers of common/schema.ts): a bad event is
// refused whole before any S3 or SNS call, with every problem at once, each naming the event field
// and the value. The payload library's own rules (key paths, attribute names, FIFO ids) are run
// through `validatedBy`, so they are stated once, in the library.
import * as v from "valibot";
import {
  accept,
  fields,
  pathText,
  problemsOf,
  strict,
  unique,
  validatedBy,
  type SchemaProblem,
} from "../../common/schema";
import {
  attributeMap,
  checkFifoIds,
  validateKeyPath,
  validateUserAttributes,
  type FifoIds,
  type MessageAttributes,
  type PayloadBody,
  type S3Source,
  type SnsBatchEntry,
} from "../payload";
import type { SourceRule } from "./config";

/** Entries one event may carry; EventBridge caps the event at 256 KiB anyway. */
export const MAX_EVENT_PAYLOADS = 100;

/** An event that cannot be handled; its message has one line per problem: `event field <path> <reason>`. */
export class EventError extends Error {
  readonly problems: readonly SchemaProblem[];
  constructor(problems: readonly SchemaProblem[]) {
    super(problems.map((p) => `event field ${pathText(p.path) || "(event)"} ${p.reason}`).join("\n"));
    this.name = "EventError";
    this.problems = problems;
  }
}

/** Validates `event` against `schema`, throwing an EventError with every problem. */
function parseEvent<T>(schema: v.GenericSchema<unknown, T>, event: unknown): T {
  const { output, problems } = problemsOf(schema, event);
  if (problems.length) throw new EventError(problems);
  return output as T;
}

const show = (value: unknown) => JSON.stringify(value) ?? String(value);

/** The reason for a value that should have been an object. */
const notAnObject = (value: unknown) => `must be an object, got ${show(value)}`;

/** Base64 as SNS and EventBridge carry it; Buffer.from would decode a malformed string to other bytes. */
const base64 = v.pipe(
  v.string("must be a base64 string"),
  v.check((s) => /^[A-Za-z0-9+/]*={0,2}$/.test(s) && s.length % 4 === 0, "must be a base64 string"),
);

const attribute = v.variant(
  "DataType",
  [
    strict(
      { DataType: v.literal("Binary"), BinaryValue: base64 },
      "must be an object {DataType, StringValue|BinaryValue}",
    ),
    strict(
      { DataType: v.picklist(["String", "Number"]), StringValue: v.string("must be a string") },
      "must be an object {DataType, StringValue|BinaryValue}",
    ),
  ],
  (issue) =>
    issue.expected === "Object"
      ? `must be an object {DataType, StringValue|BinaryValue}, got ${show(issue.input)}`
      : `must be "String", "Number" or "Binary", got ${show(issue.input)}`,
);

/**
 * name → attribute. Not v.record: it skips keys named __proto__, prototype and constructor, which
 * are valid attribute names (SNS carries them) and would be lost; each value is checked here.
 */
const attributes = v.pipe(
  accept<Record<string, unknown>>(
    (x) => typeof x === "object" && x !== null && !Array.isArray(x),
    "must be an object of name → {DataType, StringValue|BinaryValue}",
  ),
  v.rawTransform(({ dataset, addIssue, NEVER }) => {
    const out: MessageAttributes = attributeMap();
    for (const [name, raw] of Object.entries(dataset.value)) {
      const parsed = v.safeParse(attribute, raw);
      if (parsed.success) {
        const a = parsed.output;
        out[name] =
          a.DataType === "Binary"
            ? { DataType: "Binary", BinaryValue: Buffer.from(a.BinaryValue, "base64") }
            : { DataType: a.DataType, StringValue: a.StringValue };
        continue;
      }
      const at = { type: "object", origin: "value", input: dataset.value, key: name, value: raw } as const;
      for (const issue of parsed.issues) {
        addIssue({ message: issue.message, input: issue.input, path: [at, ...(issue.path ?? [])] });
      }
    }
    return dataset.issues ? NEVER : out;
  }),
  // Checked here so that a bad entry refuses the whole event before anything is published.
  validatedBy<MessageAttributes>(validateUserAttributes),
);

/** What the publisher's events are checked against: the topic and the sources the stack allows. */
export interface PublishTarget {
  topicArn: string;
  fifo: boolean;
  sourceAllowList: readonly SourceRule[];
}

/** One payload of an event, parsed. */
export interface ParsedEntry extends FifoIds {
  body?: PayloadBody;
  source?: S3Source;
  attributes?: MessageAttributes;
}

/** One payload of an event: exactly one of payload, payloadBase64 or source. */
export interface PublishEntryDetail {
  payload?: string;
  payloadBase64?: string;
  source?: { bucket: string; key: string };
  attributes?: Record<
    string,
    { DataType: "String" | "Number" | "Binary"; StringValue?: string; BinaryValue?: string }
  >;
  /** FIFO topic: the message group (default: the event's messageGroupId, then its `source`). */
  messageGroupId?: string;
  /** FIFO topic: deduplication id (default: the payload's SHA-256). */
  messageDeduplicationId?: string;
}

/**
 * `detail` of the publisher's EventBridge event (what the schema below accepts): one payload, or `payloads`, a list of up to
 * {@link MAX_EVENT_PAYLOADS} published with PublishBatch.
 */
export interface PublishDetail extends PublishEntryDetail {
  payloads?: (PublishEntryDetail & { id?: string })[];
}

/** A publish event: one payload, or a list published with PublishBatch. */
export type PublishRequest =
  { kind: "one"; entry: ParsedEntry } | { kind: "batch"; entries: SnsBatchEntry[] };

const PAYLOAD_FIELDS = ["payload", "payloadBase64", "source"] as const;

function publishEventSchema(target: PublishTarget) {
  const rules = target.sourceAllowList;
  const source = v.pipe(
    strict(
      { bucket: v.pipe(v.string(), v.nonEmpty()), key: v.pipe(v.string(), v.nonEmpty()) },
      (x) => `must be {bucket, key} with non-empty strings, got ${show(x)}`,
    ),
    // A prefix match alone would let "incoming/../private/x" through.
    validatedBy((s: S3Source) => validateKeyPath(s.key, "key")),
    // Only sources the stack names may be copied: the function's role can read more than it should publish.
    v.check(
      (s) => rules.some((r) => r.bucket === s.bucket && s.key.startsWith(r.prefix)),
      (issue) =>
        `s3://${issue.input.bucket}/${issue.input.key} is not under an allowed source (${
          rules.map((r) => `${r.bucket}/${r.prefix}`).join(", ") || "none configured"
        })`,
    ),
  );
  // Only a FIFO topic takes group and deduplication ids.
  const fifoId = target.fifo
    ? v.string((issue) => `must be a string, got ${typeof issue.input}`)
    : accept<string>(() => false, `is set but topic ${target.topicArn} is not a FIFO topic`);
  const entryFields = {
    payload: v.optional(v.string((issue) => `must be a string, got ${typeof issue.input}`)),
    payloadBase64: v.optional(base64),
    source: v.optional(source),
    attributes: v.optional(attributes),
    messageGroupId: v.optional(fifoId),
    messageDeduplicationId: v.optional(fifoId),
  };
  const exactlyOnePayload = v.check(
    (d: Record<string, unknown>) => PAYLOAD_FIELDS.filter((k) => d[k] !== undefined).length === 1,
    (issue) => {
      const given = PAYLOAD_FIELDS.filter((k) => (issue.input as Record<string, unknown>)[k] !== undefined);
      return `must have exactly one of payload, payloadBase64 or source, got ${given.join(", ") || "none"}`;
    },
  );
  const one = v.pipe(strict(entryFields, notAnObject), exactlyOnePayload);
  const notWithPayloads = v.optional(
    accept<never>(() => false, "must not be set when the event has payloads (set it on each entry)"),
  );
  const batch = v.pipe(
    strict(
      {
        payloads: v.pipe(
          v.array(
            v.pipe(
              strict(
                {
                  ...entryFields,
                  id: v.optional(
                    accept<string>(
                      (x) => typeof x === "string" && /^[A-Za-z0-9_-]{1,80}$/.test(x),
                      (x) => `must be 1-80 of [A-Za-z0-9_-], got ${show(x)}`,
                    ),
                  ),
                },
                notAnObject,
              ),
              exactlyOnePayload,
            ),
            (issue) => `must be a non-empty list, got ${show(issue.input)}`,
          ),
          v.check(
            (list) => list.length > 0,
            (issue) => `must be a non-empty list, got ${show(issue.input)}`,
          ),
          v.check(
            (list) => list.length <= MAX_EVENT_PAYLOADS,
            (issue) => `has ${issue.input.length} entries; at most ${MAX_EVENT_PAYLOADS}`,
          ),
          unique<{ id?: string }>(
            (entry, i) => entry.id ?? `p${i}`,
            "id",
            (id) => `${show(id)} is a duplicate`,
          ),
        ),
        messageGroupId: v.optional(fifoId),
        payload: notWithPayloads,
        payloadBase64: notWithPayloads,
        source: notWithPayloads,
        attributes: notWithPayloads,
        messageDeduplicationId: notWithPayloads,
      },
      notAnObject,
    ),
  );
  return fields(
    {
      source: v.optional(v.unknown()) as v.GenericSchema<unknown, unknown>,
      detail: v.lazy((d) => ((d as { payloads?: unknown } | null)?.payloads !== undefined ? batch : one)),
    },
    (x) => `must be an EventBridge event (an object with detail), got ${show(x)}`,
  );
}

/** What the schema outputs for one entry (the fields as the event gave them, checked). */
interface EntryFields extends FifoIds {
  payload?: string;
  payloadBase64?: string;
  source?: S3Source;
  attributes?: MessageAttributes;
}
type DetailFields = EntryFields | { payloads: (EntryFields & { id?: string })[]; messageGroupId?: string };

function entryOf(d: EntryFields): ParsedEntry {
  return {
    ...(d.payload !== undefined ? { body: d.payload } : {}),
    ...(d.payloadBase64 !== undefined ? { body: Buffer.from(d.payloadBase64, "base64") } : {}),
    ...(d.source ? { source: { bucket: d.source.bucket, key: d.source.key } } : {}),
    ...(d.attributes ? { attributes: d.attributes } : {}),
  };
}

/**
 * Reads the publisher's EventBridge events. The message group of a FIFO entry defaults to the
 * event's (detail.messageGroupId, then the EventBridge `source`); the deduplication id to the
 * payload's SHA-256 (set by the library).
 */
export function publishEventReader(target: PublishTarget): (event: unknown) => PublishRequest {
  const schema = publishEventSchema(target);
  return (event) => {
    const e = parseEvent(schema, event);
    const detail = e.detail as DetailFields;
    const group = detail.messageGroupId ?? (typeof e.source === "string" ? e.source : undefined);
    const problems: SchemaProblem[] = [];
    const ids = (d: FifoIds, path: (string | number)[]): FifoIds => {
      const out: FifoIds = {
        ...(d.messageDeduplicationId !== undefined
          ? { messageDeduplicationId: d.messageDeduplicationId }
          : {}),
      };
      if (!target.fifo) return out;
      out.messageGroupId = d.messageGroupId ?? group;
      try {
        checkFifoIds(target.topicArn, out);
      } catch (error) {
        problems.push({ path, value: out, reason: (error as Error).message });
      }
      return out;
    };
    let request: PublishRequest;
    if ("payloads" in detail) {
      if (detail.messageGroupId !== undefined) ids({ messageGroupId: detail.messageGroupId }, ["detail"]);
      request = {
        kind: "batch",
        entries: detail.payloads.map((d, i) => ({
          id: d.id ?? `p${i}`,
          ...entryOf(d),
          ...ids(d, ["detail", "payloads", i]),
        })),
      };
    } else {
      request = { kind: "one", entry: { ...entryOf(detail), ...ids(detail, ["detail"]) } };
    }
    if (problems.length) throw new EventError(problems);
    return request;
  };
}

const snsEvent = fields(
  {
    Records: v.pipe(
      v.array(
        fields(
          {
            Sns: fields(
              { MessageId: v.string((i) => `must be a string, got ${show(i.input)}`) },
              notAnObject,
            ),
          },
          (x) => `must be an SNS record, got ${show(x)}`,
        ),
        "must be a non-empty array of SNS records",
      ),
      v.minLength(1, "must be a non-empty array of SNS records"),
    ),
  },
  (x) => `must be an SNS event, got ${show(x)}`,
);

/**
 * Checks the shape of an SNS event before any record is delivered (Lambda delivers one record per
 * event, and the MessageId is what every log line and downstream summary is keyed on).
 */
export function checkSnsEvent<E>(event: E): E {
  parseEvent(snsEvent, event);
  return event;
}
