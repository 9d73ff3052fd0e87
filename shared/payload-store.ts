import { randomUUID } from 'node:crypto';
import { GetObjectCommand, NoSuchKey, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { NonRetryableError } from './errors.js';

/** Where a payload too large to travel inline is stored. */
export interface PayloadRef {
  readonly bucket: string;
  readonly key: string;
  readonly sizeBytes: number;
}

/** Key prefix of payload objects; the stack's grants are scoped to it. */
export const PAYLOAD_KEY_PREFIX = 'payloads/';

/**
 * Payloads above the inline limit go to S3 and travel by reference: an SQS
 * message holds at most 1 MiB and a DynamoDB item at most 400 KB, and the
 * record keeps a copy of the payload for retries. The bucket's lifecycle rule
 * deletes them with the records.
 *
 * Every upload gets a key of its own (`payloads/<jobId>/<uuid>.json`), never
 * one derived from the job id alone: a second enqueue with the same job id or
 * idempotency key uploads before it learns the job exists, and must not replace
 * the object the live job points to. The object of an enqueue that created
 * nothing is left to the lifecycle rule.
 */
export class PayloadStore {
  constructor(
    private readonly s3: S3Client,
    readonly bucket: string,
  ) {}

  async put(jobId: string, json: string): Promise<PayloadRef> {
    const key = `${PAYLOAD_KEY_PREFIX}${jobId}/${randomUUID()}.json`;
    await this.s3.send(
      new PutObjectCommand({
        Bucket: this.bucket,
        Key: key,
        Body: json,
        ContentType: 'application/json',
        ServerSideEncryption: 'AES256',
      }),
    );
    return { bucket: this.bucket, key, sizeBytes: Buffer.byteLength(json) };
  }

  /** @throws NonRetryableError when the object is gone (expired or deleted): retrying cannot bring it back. */
  async get(ref: PayloadRef): Promise<unknown> {
    try {
      const output = await this.s3.send(new GetObjectCommand({ Bucket: ref.bucket, Key: ref.key }));
      return JSON.parse((await output.Body?.transformToString('utf-8')) ?? 'null');
    } catch (error) {
      if (error instanceof NoSuchKey || (error as { name?: string }).name === 'NoSuchKey') {
        throw new NonRetryableError(`payload s3://${ref.bucket}/${ref.key} no longer exists`, { cause: error });
      }
      if (error instanceof SyntaxError)
        throw new NonRetryableError(`payload s3://${ref.bucket}/${ref.key} is not JSON`, { cause: error });
      throw error;
    }
  }
}
