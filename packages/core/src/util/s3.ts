import type { S3Client } from "@aws-sdk/client-s3";

/**
 * The S3 SDK and one client, both loaded on the first call (a Lambda that never touches S3 never imports the SDK):
 * `const s3 = lazyS3(); const { client, PutObjectCommand } = await s3();`. `given` is a caller's or a test's own
 * client; without it the SDK's default one (region and credentials from the environment).
 */
export function lazyS3(given?: S3Client) {
  let client = given;
  return async () => {
    const sdk = await import("@aws-sdk/client-s3");
    client ??= new sdk.S3Client({});
    return { ...sdk, client };
  };
}

/**
 * An adapter over one S3 bucket (the raw archive, the uploads): `this.s3()` gives the SDK and the client, made on
 * first use (`lazyS3`); a test passes its own client.
 */
export abstract class S3Bucket {
  protected readonly s3: ReturnType<typeof lazyS3>;

  constructor(
    readonly bucket: string,
    client?: S3Client,
  ) {
    this.s3 = lazyS3(client);
  }
}
