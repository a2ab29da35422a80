import { S3Bucket } from "../util/s3";
import { checkName, type Store } from "./index";

const prefix = "raw-archive/";

/** Archived records as objects under `raw-archive/` of a bucket; the client is created on first use. */
export class S3Archive extends S3Bucket implements Store {
  describe() {
    return { kind: "s3" as const, location: `s3://${this.bucket}/${prefix}` };
  }

  async put(name: string, body: Uint8Array): Promise<void> {
    const { client, PutObjectCommand } = await this.s3();
    await client.send(new PutObjectCommand({ Bucket: this.bucket, Key: prefix + checkName(name), Body: body, ContentType: "application/json" }));
  }

  async list(limit: number): Promise<string[]> {
    const { client, ListObjectsV2Command } = await this.s3();
    // S3 lists keys in UTF-8 binary order, which for these names is oldest first.
    const answer = await client.send(new ListObjectsV2Command({ Bucket: this.bucket, Prefix: prefix, MaxKeys: limit }));
    return (answer.Contents ?? []).map((object) => (object.Key ?? "").slice(prefix.length)).filter((name) => name.endsWith(".json"));
  }

  async get(name: string): Promise<Buffer> {
    const { client, GetObjectCommand } = await this.s3();
    const answer = await client.send(new GetObjectCommand({ Bucket: this.bucket, Key: prefix + checkName(name) }));
    return Buffer.from(await (answer.Body as { transformToByteArray(): Promise<Uint8Array> }).transformToByteArray());
  }

  async remove(name: string): Promise<void> {
    const { client, DeleteObjectCommand } = await this.s3();
    await client.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: prefix + checkName(name) }));
  }
}
