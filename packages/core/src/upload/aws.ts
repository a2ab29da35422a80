import { S3Bucket } from "../util/s3";
import { checkKey, type Store, type Writer } from "./index";

/** Objects in the uploads bucket; the client is created on first use. */
export class S3Store extends S3Bucket implements Store {
  async put(key: string, body: Uint8Array): Promise<void> {
    const { client, PutObjectCommand } = await this.s3();
    await client.send(new PutObjectCommand({ Bucket: this.bucket, Key: checkKey(key), Body: body }));
  }

  /**
   * Chunks are kept until commit, then put as one object: a Lambda's request body is at most 6 MB and
   * already in memory, so a multipart upload would add calls without saving memory.
   */
  async writer(key: string): Promise<Writer> {
    const chunks: Uint8Array[] = [];
    return {
      write: async (chunk) => {
        chunks.push(chunk);
      },
      commit: () => this.put(key, Buffer.concat(chunks)),
      abort: async () => {
        chunks.length = 0;
      },
    };
  }

  async get(key: string): Promise<Buffer> {
    const { client, GetObjectCommand } = await this.s3();
    const answer = await client.send(new GetObjectCommand({ Bucket: this.bucket, Key: checkKey(key) }));
    return Buffer.from(await (answer.Body as { transformToByteArray(): Promise<Uint8Array> }).transformToByteArray());
  }
}
