import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { Readable } from "node:stream";
import {
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  GetObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
  UploadPartCommand,
} from "@aws-sdk/client-s3";
import { emulatorClientConfig, startS3rver, type RunningS3rver } from "../../local/emulators";

const KiB = 1024;

/**
 * A body of `size` bytes of which the first `sent` arrive; then the client drops the connection, as
 * a worker killed mid-upload (a Lambda timeout) or a cut network path does.
 */
function cutBody(size: number, sent: number, abort: AbortController): Readable {
  return Readable.from(
    (async function* () {
      yield Buffer.alloc(sent, 0x61);
      // Long enough for the server to have stored what arrived, as it does with a slow sender.
      await new Promise((r) => setTimeout(r, 150));
      abort.abort();
      yield Buffer.alloc(size - sent, 0x62);
    })(),
  );
}

describe("emulators: s3rver stores only bodies that arrived whole, as S3 does", function () {
  this.timeout(20_000);
  let s3rver: RunningS3rver;
  let s3: S3Client;

  before(async () => {
    s3rver = await startS3rver({ buckets: ["b"] });
    s3 = new S3Client({ ...emulatorClientConfig(s3rver.endpoint), maxAttempts: 1 });
  });
  after(async () => {
    s3.destroy();
    await s3rver.stop();
  });

  const cutPut = async (key: string) => {
    const abort = new AbortController();
    await assert.rejects(
      s3.send(
        new PutObjectCommand({
          Bucket: "b",
          Key: key,
          Body: cutBody(300 * KiB, 150 * KiB, abort),
          ContentLength: 300 * KiB,
        }),
        { abortSignal: abort.signal },
      ),
    );
  };
  const read = async (key: string) => {
    const got = await s3.send(new GetObjectCommand({ Bucket: "b", Key: key }));
    return Buffer.from(await got.Body!.transformToByteArray());
  };

  it("keeps no object from a PutObject whose connection dropped mid-body", async () => {
    await cutPut("cut/new");
    const listed = await s3.send(new ListObjectsV2Command({ Bucket: "b", Prefix: "cut/" }));
    assert.deepEqual(
      (listed.Contents ?? []).map((o) => `${o.Key} (${o.Size} bytes)`),
      [],
      "the 150 KiB that arrived were stored as the object",
    );
    await assert.rejects(read("cut/new"), { name: "NoSuchKey" });
  });

  it("keeps the earlier object when an overwrite is cut mid-body", async () => {
    const before = Buffer.alloc(10 * KiB, 0x7a);
    await s3.send(new PutObjectCommand({ Bucket: "b", Key: "kept", Body: before }));
    await cutPut("kept");
    assert.ok((await read("kept")).equals(before), "the cut overwrite replaced the object");
  });

  it("keeps no part from an UploadPart whose connection dropped mid-body", async () => {
    const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket: "b", Key: "parts" }));
    const abort = new AbortController();
    await assert.rejects(
      s3.send(
        new UploadPartCommand({
          Bucket: "b",
          Key: "parts",
          UploadId,
          PartNumber: 1,
          Body: cutBody(300 * KiB, 150 * KiB, abort),
          ContentLength: 300 * KiB,
        }),
        { abortSignal: abort.signal },
      ),
    );
    // s3rver keeps parts as `<bucket>/._S3rver_uploads/<UploadId>/<PartNumber>`; completing with a
    // missing part throws outside its request handler, so the store is looked at directly.
    const part = path.join(s3rver.dir, "b", "._S3rver_uploads", UploadId!, "1");
    assert.equal(fs.existsSync(part), false, "the 150 KiB that arrived were stored as part 1");
    const whole = Buffer.alloc(300 * KiB, 0x64);
    const { ETag } = await s3.send(
      new UploadPartCommand({ Bucket: "b", Key: "parts", UploadId, PartNumber: 1, Body: whole }),
    );
    await s3.send(
      new CompleteMultipartUploadCommand({
        Bucket: "b",
        Key: "parts",
        UploadId,
        MultipartUpload: { Parts: [{ PartNumber: 1, ETag }] },
      }),
    );
    assert.ok((await read("parts")).equals(whole));
  });

  it("still stores whole bodies, streamed or not", async () => {
    const body = Buffer.alloc(300 * KiB, 0x63);
    await s3.send(
      new PutObjectCommand({
        Bucket: "b",
        Key: "whole",
        Body: Readable.from([body.subarray(0, 100 * KiB), body.subarray(100 * KiB)]),
        ContentLength: body.length,
      }),
    );
    assert.ok((await read("whole")).equals(body));
  });
});
