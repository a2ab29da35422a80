/**
 * What an XLSX (a ZIP) says about itself before anything is inflated: the central directory's
 * entries with their declared sizes (ZIP64 included, APPNOTE 6.3.10 §4.3.12–4.3.16), and each
 * worksheet's `<dimension>` read from the first few KB of its data. Used to refuse zip bombs and
 * oversized sheets before a parser inflates them.
 */
import { constants, inflateRawSync } from "node:zlib";
import { WattflowError } from "../util/error";

export type Entry = { name: string; method: number; compressedBytes: number; inflatedBytes: number; localOffset: number };

export class ZipError extends WattflowError {
  readonly kind = "input" as const;
  readonly code = "import.zip_invalid";
  override readonly name = "ZipError";
}

const EOCD = 0x06054b50;
const ZIP64_LOCATOR = 0x07064b50;
const ZIP64_EOCD = 0x06064b50;
const CENTRAL = 0x02014b50;
const LOCAL = 0x04034b50;

/** The central directory's entries, with the sizes they declare. Throws ZipError when it is not a ZIP. */
export function entries(bytes: Buffer): Entry[] {
  const from = Math.max(0, bytes.length - 22 - 0xffff);
  let eocd = -1;
  for (let at = bytes.length - 22; at >= from; at--) {
    if (bytes.readUInt32LE(at) === EOCD) {
      eocd = at;
      break;
    }
  }
  if (eocd < 0) throw new ZipError("no ZIP end of central directory: not an XLSX file");
  let count = bytes.readUInt16LE(eocd + 10);
  let offset = bytes.readUInt32LE(eocd + 16);
  if ((count === 0xffff || offset === 0xffffffff) && eocd >= 20 && bytes.readUInt32LE(eocd - 20) === ZIP64_LOCATOR) {
    const record = Number(bytes.readBigUInt64LE(eocd - 20 + 8));
    if (record + 56 > bytes.length || bytes.readUInt32LE(record) !== ZIP64_EOCD) throw new ZipError("broken ZIP64 end of central directory");
    count = Number(bytes.readBigUInt64LE(record + 32));
    offset = Number(bytes.readBigUInt64LE(record + 48));
  }
  const found: Entry[] = [];
  let at = offset;
  for (let index = 0; index < count; index++) {
    if (at + 46 > bytes.length || bytes.readUInt32LE(at) !== CENTRAL) throw new ZipError(`central directory entry ${index} is broken`);
    const nameLength = bytes.readUInt16LE(at + 28);
    const extraLength = bytes.readUInt16LE(at + 30);
    const commentLength = bytes.readUInt16LE(at + 32);
    const entry: Entry = {
      name: bytes.toString("utf8", at + 46, at + 46 + nameLength),
      method: bytes.readUInt16LE(at + 10),
      compressedBytes: bytes.readUInt32LE(at + 20),
      inflatedBytes: bytes.readUInt32LE(at + 24),
      localOffset: bytes.readUInt32LE(at + 42),
    };
    // ZIP64 extra field (0x0001): the 64-bit values of the fields set to 0xFFFFFFFF, in this order.
    for (let extra = at + 46 + nameLength; extra + 4 <= at + 46 + nameLength + extraLength; ) {
      const id = bytes.readUInt16LE(extra);
      const size = bytes.readUInt16LE(extra + 2);
      if (id === 0x0001) {
        let field = extra + 4;
        for (const key of ["inflatedBytes", "compressedBytes", "localOffset"] as const) {
          if (entry[key] === 0xffffffff && field + 8 <= extra + 4 + size) {
            entry[key] = Number(bytes.readBigUInt64LE(field));
            field += 8;
          }
        }
      }
      extra += 4 + size;
    }
    found.push(entry);
    at += 46 + nameLength + extraLength + commentLength;
  }
  return found;
}

/** The first bytes of an entry's data, inflating no more than `compressedBytes` of it (a few KB inflate to a few MB at most). */
export function head(bytes: Buffer, entry: Entry, compressedBytes = 4096): Buffer {
  const at = entry.localOffset;
  if (at + 30 > bytes.length || bytes.readUInt32LE(at) !== LOCAL) throw new ZipError(`the local header of ${entry.name} is broken`);
  const start = at + 30 + bytes.readUInt16LE(at + 26) + bytes.readUInt16LE(at + 28);
  const data = bytes.subarray(start, start + Math.min(entry.compressedBytes, compressedBytes));
  if (entry.method === 0) return data;
  if (entry.method !== 8) throw new ZipError(`${entry.name} uses compression method ${entry.method}, not deflate`);
  // A sync flush inflates what the slice holds without asking for the rest of the stream.
  return inflateRawSync(data, { finishFlush: constants.Z_SYNC_FLUSH });
}

/** The number of rows a worksheet's `<dimension ref="A1:D1000">` spans, or undefined when it has none. */
export function dimensionRows(sheetHead: Buffer): number | undefined {
  const match = /<(?:\w+:)?dimension\s+ref="[A-Z]*(\d*)(?::[A-Z]*(\d+))?"/.exec(sheetHead.toString("utf8"));
  if (!match) return undefined;
  const first = Number(match[1] || 1);
  const last = Number(match[2] ?? match[1] ?? 1);
  return last - first + 1;
}
