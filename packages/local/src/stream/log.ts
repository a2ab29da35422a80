/**
 * A durable, sharded, append-only log: the local stand-in for a Kinesis data stream.
 *
 * Each shard is a directory of segment files. A record is framed as
 *   [u32 payload length][u32 crc32(payload)] payload = [u64 seq][f64 arrival ms][u16 key length][key][data]
 * Appends are group-committed: every append waiting while a write is in flight goes into the next
 * write, and nothing is acknowledged (sequence number returned) before `fdatasync` returned.
 * A torn tail (crash in the middle of a write) fails its CRC at open and is cut off; it was never
 * acknowledged, so nothing acknowledged is lost and no manual repair is needed.
 */
import { createHash } from "node:crypto";
import { EventEmitter } from "node:events";
import { mkdirSync, readdirSync, readFileSync } from "node:fs";
import { type FileHandle, open, rm, stat } from "node:fs/promises";
import { join } from "node:path";
import { crc32 } from "node:zlib";
import { readJsonState, syncDirectory, writeFileAtomicSync } from "@wattflow/core/util/files";

const headerBytes = 8;
const fixedPayloadBytes = 8 + 8 + 2;
const sequenceDigits = 20;

export type LogRecord = {
  shardId: string;
  sequenceNumber: string;
  partitionKey: string;
  data: Buffer;
  arrivalMs: number;
};

/** Where a reader stands: a segment (named by its first sequence number) and a byte offset in it. */
export type Position = { segment: string; offset: number };

export type AppendEntry = { partitionKey: string; data: Uint8Array; explicitHashKey?: string };

export class LogError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "LogError";
  }
}

type Segment = { firstSeq: string; path: string; size: number };

type Pending = { partitionKey: string; data: Uint8Array; resolve: (seq: string) => void; reject: (error: Error) => void };

class Shard {
  readonly segments: Segment[] = [];
  nextSeq = 1n;
  writer?: FileHandle;
  pending: Pending[] = [];
  flushing = false;
  readonly readers = new Map<string, FileHandle>();

  constructor(
    readonly index: number,
    readonly id: string,
    readonly dir: string,
  ) {}

  get last(): Segment | undefined {
    return this.segments[this.segments.length - 1];
  }
}

export type LogOptions = {
  dir: string;
  name: string;
  shardCount: number;
  segmentBytes: number;
};

export class DurableLog {
  private readonly shards: Shard[] = [];
  private readonly events = new EventEmitter();
  private closed = false;
  readonly name: string;
  readonly createdAt: Date;

  private constructor(
    private readonly options: LogOptions,
    createdAt: Date,
  ) {
    this.name = options.name;
    this.createdAt = createdAt;
    this.events.setMaxListeners(0);
  }

  /** Opens (or creates) the log in `dir`, recovering each shard's tail. */
  static async open(options: LogOptions): Promise<DurableLog> {
    mkdirSync(options.dir, { recursive: true });
    const metaPath = join(options.dir, "stream.json");
    let meta = readJsonState<{ name: string; shardCount: number; createdAt: string }>(metaPath);
    if (!meta) {
      // A new stream, or one whose stream.json was unreadable (set aside): its shard folders tell the count.
      const existing = readdirSync(options.dir).filter((name) => /^shardId-\d{12}$/.test(name)).length;
      meta = { name: options.name, shardCount: existing || options.shardCount, createdAt: new Date().toISOString() };
      writeFileAtomicSync(metaPath, JSON.stringify(meta));
    }
    // The shard count is fixed when the stream is created: re-sharding would move partition keys.
    const log = new DurableLog({ ...options, shardCount: meta.shardCount }, new Date(meta.createdAt));
    for (let index = 0; index < meta.shardCount; index++) {
      const id = `shardId-${String(index).padStart(12, "0")}`;
      const dir = join(options.dir, id);
      mkdirSync(dir, { recursive: true });
      const shard = new Shard(index, id, dir);
      await log.recover(shard);
      log.shards.push(shard);
    }
    return log;
  }

  get shardIds(): string[] {
    return this.shards.map((shard) => shard.id);
  }

  /** Hash key range of each shard, as Kinesis reports it (MD5 of the partition key, 128 bits). */
  hashKeyRange(shardId: string): { start: string; end: string } {
    const shard = this.shard(shardId);
    const span = (1n << 128n) / BigInt(this.shards.length);
    const start = span * BigInt(shard.index);
    const end = shard.index === this.shards.length - 1 ? (1n << 128n) - 1n : start + span - 1n;
    return { start: start.toString(), end: end.toString() };
  }

  shardFor(partitionKey: string, explicitHashKey?: string): Shard {
    const hash = explicitHashKey !== undefined ? BigInt(explicitHashKey) : BigInt(`0x${createHash("md5").update(partitionKey).digest("hex")}`);
    const index = Number((hash * BigInt(this.shards.length)) >> 128n);
    const shard = this.shards[Math.min(index, this.shards.length - 1)];
    if (!shard) throw new LogError("log has no shards");
    return shard;
  }

  /** Appends entries; resolves once they are on disk, with each entry's shard and sequence number, in order. */
  append(entries: AppendEntry[]): Promise<{ shardId: string; sequenceNumber: string }[]> {
    if (this.closed) return Promise.reject(new LogError("log is closed"));
    return Promise.all(
      entries.map((entry) => {
        const shard = this.shardFor(entry.partitionKey, entry.explicitHashKey);
        return new Promise<{ shardId: string; sequenceNumber: string }>((resolve, reject) => {
          shard.pending.push({
            partitionKey: entry.partitionKey,
            data: entry.data,
            resolve: (sequenceNumber) => resolve({ shardId: shard.id, sequenceNumber }),
            reject,
          });
          this.scheduleFlush(shard);
        });
      }),
    );
  }

  /** Reads up to `maxRecords` durable records from `position`; returns them and the position after them. */
  async read(shardId: string, position: Position, maxRecords: number, maxBytes = 10 * 1024 * 1024): Promise<{ records: LogRecord[]; next: Position }> {
    const shard = this.shard(shardId);
    const records: LogRecord[] = [];
    let { segment: segmentName, offset } = position;
    let bytes = 0;
    while (records.length < maxRecords && bytes < maxBytes) {
      const segmentIndex = shard.segments.findIndex((candidate) => candidate.firstSeq === segmentName);
      const segment = shard.segments[segmentIndex];
      if (!segment) {
        // The segment was trimmed by retention: continue at the oldest one kept.
        const oldest = shard.segments[0];
        if (!oldest || oldest.firstSeq === segmentName) break;
        segmentName = oldest.firstSeq;
        offset = 0;
        continue;
      }
      if (offset >= segment.size) {
        const following = shard.segments[segmentIndex + 1];
        if (!following) break;
        segmentName = following.firstSeq;
        offset = 0;
        continue;
      }
      const handle = await this.reader(shard, segment);
      const length = Math.min(segment.size - offset, Math.max(64 * 1024, maxBytes - bytes));
      const buffer = Buffer.allocUnsafe(length);
      const { bytesRead } = await handle.read(buffer, 0, length, offset);
      let cursor = 0;
      while (cursor + headerBytes <= bytesRead && records.length < maxRecords) {
        const payloadLength = buffer.readUInt32LE(cursor);
        if (cursor + headerBytes + payloadLength > bytesRead) break;
        const payload = buffer.subarray(cursor + headerBytes, cursor + headerBytes + payloadLength);
        records.push(decode(shard.id, payload));
        cursor += headerBytes + payloadLength;
        bytes += payloadLength;
      }
      if (cursor === 0) {
        // One record larger than the chunk: read exactly that frame.
        const payloadLength = buffer.readUInt32LE(0);
        const frame = Buffer.allocUnsafe(headerBytes + payloadLength);
        await handle.read(frame, 0, frame.length, offset);
        records.push(decode(shard.id, frame.subarray(headerBytes)));
        cursor = frame.length;
        bytes += payloadLength;
      }
      offset += cursor;
    }
    return { records, next: { segment: segmentName, offset } };
  }

  /** Position of the oldest record kept (TRIM_HORIZON). */
  trimHorizon(shardId: string): Position {
    const shard = this.shard(shardId);
    return { segment: shard.segments[0]?.firstSeq ?? formatSeq(shard.nextSeq), offset: 0 };
  }

  /** Position just after the newest durable record (LATEST). */
  latest(shardId: string): Position {
    const shard = this.shard(shardId);
    const last = shard.last;
    return last ? { segment: last.firstSeq, offset: last.size } : { segment: formatSeq(shard.nextSeq), offset: 0 };
  }

  /** Position of the first record at (or after, with `after`) a sequence number. */
  async positionOf(shardId: string, sequenceNumber: string, after: boolean): Promise<Position> {
    const shard = this.shard(shardId);
    const target = BigInt(sequenceNumber);
    let position = this.trimHorizon(shardId);
    for (const segment of shard.segments) {
      if (BigInt(segment.firstSeq) <= target) position = { segment: segment.firstSeq, offset: 0 };
    }
    for (;;) {
      const { records, next } = await this.read(shardId, position, 1);
      const record = records[0];
      if (!record) return position;
      const seq = BigInt(record.sequenceNumber);
      if (seq > target || (seq === target && !after)) return position;
      position = next;
    }
  }

  /** Sequence number the next record in this shard will get; readers use it to tell how far behind they are. */
  nextSequenceNumber(shardId: string): string {
    return formatSeq(this.shard(shardId).nextSeq);
  }

  /** Resolves when the shard gets new records, or after `timeoutMs`. */
  waitForAppend(shardId: string, timeoutMs: number): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.events.off(shardId, done);
        resolve();
      };
      const timer = setTimeout(done, timeoutMs);
      this.events.on(shardId, done);
    });
  }

  /** Deletes whole segments whose records are all before `keepFrom` and older than `retentionMs`. */
  async trim(shardId: string, keepFrom: string, retentionMs: number, now = Date.now()): Promise<number> {
    const shard = this.shard(shardId);
    let removed = 0;
    while (shard.segments.length > 1) {
      const [oldest, following] = shard.segments as [Segment, Segment];
      if (BigInt(following.firstSeq) > BigInt(keepFrom)) break;
      const modified = (await stat(oldest.path)).mtimeMs;
      if (now - modified < retentionMs) break;
      await shard.readers.get(oldest.firstSeq)?.close();
      shard.readers.delete(oldest.firstSeq);
      await rm(oldest.path);
      shard.segments.shift();
      removed++;
    }
    return removed;
  }

  /** Durable record count per shard is not kept; this reports the bytes held, for /health. */
  stats(): { shards: number; bytes: number; pending: number } {
    let bytes = 0;
    let pending = 0;
    for (const shard of this.shards) {
      for (const segment of shard.segments) bytes += segment.size;
      pending += shard.pending.length;
    }
    return { shards: this.shards.length, bytes, pending };
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const shard of this.shards) {
      while (shard.flushing || shard.pending.length > 0) await new Promise((resolve) => setTimeout(resolve, 5));
      await shard.writer?.close();
      shard.writer = undefined;
      for (const handle of shard.readers.values()) await handle.close();
      shard.readers.clear();
    }
    this.events.removeAllListeners();
  }

  private shard(shardId: string): Shard {
    const shard = this.shards.find((candidate) => candidate.id === shardId);
    if (!shard) throw new LogError(`stream ${this.name} has no shard ${shardId}`);
    return shard;
  }

  private scheduleFlush(shard: Shard): void {
    if (shard.flushing) return;
    shard.flushing = true;
    // setImmediate lets every append issued in this tick join the same write and fsync.
    setImmediate(() => void this.flush(shard));
  }

  private async flush(shard: Shard): Promise<void> {
    while (shard.pending.length > 0) {
      const batch = shard.pending;
      shard.pending = [];
      try {
        await this.write(shard, batch);
      } catch (error) {
        const failure = new LogError(`cannot append to ${shard.id}: ${(error as Error).message}`, { cause: error });
        for (const entry of batch) entry.reject(failure);
      }
    }
    shard.flushing = false;
  }

  private async write(shard: Shard, batch: Pending[]): Promise<void> {
    let segment = shard.last;
    if (!segment || segment.size >= this.options.segmentBytes || !shard.writer) {
      await shard.writer?.close();
      if (!segment || segment.size >= this.options.segmentBytes) {
        const firstSeq = formatSeq(shard.nextSeq);
        segment = { firstSeq, path: join(shard.dir, `${firstSeq}.seg`), size: 0 };
        shard.writer = await open(segment.path, "a");
        await syncDirectory(shard.dir);
        shard.segments.push(segment);
      } else {
        shard.writer = await open(segment.path, "a");
      }
    }
    const arrivalMs = Date.now();
    const frames: Buffer[] = [];
    let seq = shard.nextSeq;
    const assigned: string[] = [];
    for (const entry of batch) {
      const sequenceNumber = formatSeq(seq++);
      assigned.push(sequenceNumber);
      frames.push(encode(sequenceNumber, arrivalMs, entry.partitionKey, entry.data));
    }
    const buffer = Buffer.concat(frames);
    const writer = shard.writer;
    if (!writer) throw new LogError("no writer");
    try {
      await writer.write(buffer, 0, buffer.length);
      await writer.datasync();
    } catch (error) {
      // A partial write must not stay in front of later records: cut the file back and reopen.
      await writer.truncate(segment.size).catch(() => undefined);
      await writer.close().catch(() => undefined);
      shard.writer = undefined;
      throw error;
    }
    segment.size += buffer.length;
    shard.nextSeq = seq;
    for (const [index, entry] of batch.entries()) entry.resolve(assigned[index] as string);
    this.events.emit(shard.id);
  }

  private async reader(shard: Shard, segment: Segment): Promise<FileHandle> {
    let handle = shard.readers.get(segment.firstSeq);
    if (!handle) {
      handle = await open(segment.path, "r");
      shard.readers.set(segment.firstSeq, handle);
    }
    return handle;
  }

  private async recover(shard: Shard): Promise<void> {
    const names = readdirSync(shard.dir)
      .filter((name) => name.endsWith(".seg"))
      .sort();
    for (const name of names) {
      const path = join(shard.dir, name);
      shard.segments.push({ firstSeq: name.slice(0, -4), path, size: (await stat(path)).size });
    }
    const last = shard.last;
    if (!last) return;
    // Only the last segment can have a torn tail: earlier ones were complete before the next was made.
    const content = readFileSync(last.path);
    let cursor = 0;
    let lastSeq: bigint | undefined;
    while (cursor + headerBytes <= content.length) {
      const payloadLength = content.readUInt32LE(cursor);
      const checksum = content.readUInt32LE(cursor + 4);
      const end = cursor + headerBytes + payloadLength;
      if (payloadLength < fixedPayloadBytes || end > content.length) break;
      const payload = content.subarray(cursor + headerBytes, end);
      if (crc32(payload) !== checksum) break;
      lastSeq = payload.readBigUInt64LE(0);
      cursor = end;
    }
    if (cursor < content.length) {
      const handle = await open(last.path, "r+");
      await handle.truncate(cursor);
      await handle.sync();
      await handle.close();
      last.size = cursor;
    }
    shard.nextSeq = lastSeq !== undefined ? lastSeq + 1n : BigInt(last.firstSeq);
  }
}

function encode(sequenceNumber: string, arrivalMs: number, partitionKey: string, data: Uint8Array): Buffer {
  const key = Buffer.from(partitionKey, "utf8");
  const payload = Buffer.allocUnsafe(fixedPayloadBytes + key.length + data.length);
  payload.writeBigUInt64LE(BigInt(sequenceNumber), 0);
  payload.writeDoubleLE(arrivalMs, 8);
  payload.writeUInt16LE(key.length, 16);
  key.copy(payload, 18);
  payload.set(data, 18 + key.length);
  const header = Buffer.allocUnsafe(headerBytes);
  header.writeUInt32LE(payload.length, 0);
  header.writeUInt32LE(crc32(payload), 4);
  return Buffer.concat([header, payload]);
}

function decode(shardId: string, payload: Buffer): LogRecord {
  const keyLength = payload.readUInt16LE(16);
  return {
    shardId,
    sequenceNumber: formatSeq(payload.readBigUInt64LE(0)),
    arrivalMs: payload.readDoubleLE(8),
    partitionKey: payload.toString("utf8", 18, 18 + keyLength),
    data: Buffer.from(payload.subarray(18 + keyLength)),
  };
}

export function formatSeq(seq: bigint): string {
  return seq.toString().padStart(sequenceDigits, "0");
}
