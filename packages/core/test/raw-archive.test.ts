/**
 * The raw archive's S3 adapter (the bucket cannot run here: S3 answers from a fixture shaped like a
 * real ListObjectsV2 response) and its local one (real files).
 */
import { readdirSync } from "node:fs";
import { DeleteObjectCommand, ListObjectsV2Command, type ListObjectsV2CommandOutput, PutObjectCommand, S3Client } from "@aws-sdk/client-s3";
import { mockClient } from "aws-sdk-client-mock";
import { afterEach, describe, expect, it } from "vitest";
import { RawArchive } from "../src/archive";
import { S3Archive } from "../src/archive/aws";
import { LocalArchive } from "../src/archive/local";
import { Testing } from "../src/testing";

const listing: ListObjectsV2CommandOutput = {
  $metadata: { httpStatusCode: 200 },
  IsTruncated: false,
  Name: "wattflow-production-rawarchivebucket-x1y2z3",
  Prefix: "raw-archive/",
  MaxKeys: 100,
  KeyCount: 2,
  Contents: [
    {
      Key: "raw-archive/2026-11-30T08-15-00.123Z-abc123def0.json",
      LastModified: new Date("2026-11-30T08:15:00Z"),
      ETag: '"9b2cf535f27731c974343645a3985328"',
      Size: 2048,
      StorageClass: "STANDARD",
    },
    {
      Key: "raw-archive/2026-11-30T08-16-02.001Z-0f9e8d7c6b.json",
      LastModified: new Date("2026-11-30T08:16:02Z"),
      ETag: '"6f1ed002ab5595859014ebf0951522d9"',
      Size: 512,
      StorageClass: "STANDARD",
    },
  ],
};

describe("raw archive", () => {
  const s3 = mockClient(S3Client);
  afterEach(() => s3.reset());

  it("keeps objects under raw-archive/ of the bucket and lists them by name, oldest first", async () => {
    s3.on(ListObjectsV2Command).resolves(listing);
    s3.on(PutObjectCommand).resolves({ $metadata: { httpStatusCode: 200 } });
    s3.on(DeleteObjectCommand).resolves({ $metadata: { httpStatusCode: 204 } });
    const archive = new S3Archive("wattflow-production-rawarchivebucket-x1y2z3", new S3Client({ region: "us-east-1" }));
    const name = RawArchive.objectName(new Date("2026-11-30T08:17:00Z"));

    await archive.put(name, Buffer.from("{}"));
    const names = await archive.list(100);
    await archive.remove(name);

    expect(s3.commandCalls(PutObjectCommand)[0]?.args[0].input).toMatchObject({
      Bucket: "wattflow-production-rawarchivebucket-x1y2z3",
      Key: `raw-archive/${name}`,
    });
    expect(s3.commandCalls(ListObjectsV2Command)[0]?.args[0].input).toEqual({
      Bucket: "wattflow-production-rawarchivebucket-x1y2z3",
      Prefix: "raw-archive/",
      MaxKeys: 100,
    });
    expect(names).toEqual(["2026-11-30T08-15-00.123Z-abc123def0.json", "2026-11-30T08-16-02.001Z-0f9e8d7c6b.json"]);
    expect(s3.commandCalls(DeleteObjectCommand)[0]?.args[0].input).toEqual({
      Bucket: "wattflow-production-rawarchivebucket-x1y2z3",
      Key: `raw-archive/${name}`,
    });
  });

  it("refuses a name that could leave its folder, locally and on S3", async () => {
    const dir = Testing.temporaryDir();
    for (const archive of [new LocalArchive(dir.path), new S3Archive("bucket", new S3Client({ region: "us-east-1" }))]) {
      await expect(archive.put("../escape.json", Buffer.from("x"))).rejects.toThrow(/invalid archive object name/);
    }
    expect(s3.calls()).toHaveLength(0);
    dir.remove();
  });

  it("writes a local object whole, leaving no temporary file behind", async () => {
    const dir = Testing.temporaryDir();
    const archive = new LocalArchive(`${dir.path}/archive`);
    const name = RawArchive.objectName();

    await archive.put(name, Buffer.from('{"version":1}'));

    expect(readdirSync(`${dir.path}/archive`)).toEqual([name]);
    expect((await archive.get(name)).toString()).toBe('{"version":1}');
    dir.remove();
  });
});
