/**
 * PostgreSQL's binary COPY format (the "Binary Format" section of the COPY page of the PostgreSQL manual),
 * written field by field: for a bulk load on PGlite, where Postgres then parses no text (numbers, instants) and
 * the rows go in at less than half the cost of CSV. Pure: it builds bytes and touches nothing.
 */
import { WattflowError } from "../util/error";

/** Postgres's epoch (2000-01-01 00:00 UTC) in Unix milliseconds: a binary timestamptz counts microseconds from it. */
const postgresEpochMs = Date.UTC(2000, 0, 1);
/** A text element's type in a binary array (pg_type oid of `text`). */
const textOid = 25;
/** A plain decimal: optional sign, digits, optional fraction (what Decimal.toFixed writes). */
const plainDecimal = /^(-?)(\d+)(?:\.(\d+))?$/;

/** A numeric text the binary writer does not encode (NaN, an exponent): the caller writes the rows another way. */
export class UnencodableError extends WattflowError {
  readonly kind = "internal" as const;
  readonly code = "database.copy_unencodable";
  override readonly name = "UnencodableError";
}

/**
 * A binary COPY stream: `row(n)` opens a tuple of n fields, then one call per field in column order; `bytes()`
 * ends the stream. Every field method takes null for SQL NULL.
 * @example const out = new CopyWriter(); out.row(2); out.text("mtr_1"); out.float8(1.5); await client.query(copy…, [], { blob: new Blob([out.bytes()]) })
 */
export class CopyWriter {
  private buffer: Uint8Array<ArrayBuffer>;
  private view: DataView;
  private offset = 0;
  private readonly encoder = new TextEncoder();

  constructor(capacity = 1 << 16) {
    this.buffer = new Uint8Array(Math.max(capacity, 64));
    this.view = new DataView(this.buffer.buffer);
    // Signature "PGCOPY\n\377\r\n\0", flags (no OIDs), header extension length.
    for (const byte of [0x50, 0x47, 0x43, 0x4f, 0x50, 0x59, 0x0a, 0xff, 0x0d, 0x0a, 0x00]) this.buffer[this.offset++] = byte;
    this.int32(0);
    this.int32(0);
  }

  /** Opens a tuple of `fields` fields. */
  row(fields: number): void {
    this.room(2);
    this.view.setInt16(this.offset, fields);
    this.offset += 2;
  }

  /** A text (or varchar) field, UTF-8. */
  text(value: string | null): void {
    if (value === null) {
      this.null();
      return;
    }
    // Each UTF-16 unit is at most 3 UTF-8 bytes.
    this.room(4 + value.length * 3);
    const start = this.offset + 4;
    let end = start;
    for (let index = 0; index < value.length; index++) {
      const code = value.charCodeAt(index);
      if (code >= 0x80) {
        end = start + this.encoder.encodeInto(value, this.buffer.subarray(start)).written;
        break;
      }
      this.buffer[end++] = code;
    }
    this.view.setInt32(this.offset, end - start);
    this.offset = end;
  }

  /** An int4 field. */
  int4(value: number | null): void {
    if (value === null) this.null();
    else {
      // The field first: it may grow the buffer, and with it replace the view.
      const at = this.field(4);
      this.view.setInt32(at, value);
    }
  }

  /** A float8 field: the double itself, so Postgres stores exactly the JavaScript number. */
  float8(value: number | null): void {
    if (value === null) this.null();
    else {
      const at = this.field(8);
      this.view.setFloat64(at, value);
    }
  }

  /** A bool field. */
  bool(value: boolean | null): void {
    if (value === null) this.null();
    else {
      const at = this.field(1);
      this.buffer[at] = value ? 1 : 0;
    }
  }

  /** A timestamptz field from an instant (whole milliseconds; Postgres keeps microseconds). */
  timestamptz(value: Date | null): void {
    if (value === null) {
      this.null();
      return;
    }
    // An int64 of microseconds since 2000, exact as a double far beyond any date Postgres accepts.
    const micros = (value.getTime() - postgresEpochMs) * 1000;
    const high = Math.floor(micros / 2 ** 32);
    const at = this.field(8);
    this.view.setInt32(at, high);
    this.view.setUint32(at + 4, micros - high * 2 ** 32);
  }

  /**
   * A numeric field from its plain decimal text ("-12.345600"): base-10000 digits, the weight of the first, the
   * sign and the display scale (the text's decimals), as numeric_send writes them; Postgres applies the column's
   * precision and scale as it does to text.
   * @throws UnencodableError for any other text (NaN, an exponent).
   */
  numeric(value: string | null): void {
    if (value === null) {
      this.null();
      return;
    }
    const parts = plainDecimal.exec(value);
    if (!parts) throw new UnencodableError(`numeric ${JSON.stringify(value)} is not a plain decimal`);
    const whole = parts[2] as string;
    const fraction = parts[3] ?? "";
    // Whole digits padded on the left and the fraction on the right to groups of four.
    const wholePadded = whole.padStart(Math.ceil(whole.length / 4) * 4, "0");
    const fractionPadded = fraction.padEnd(Math.ceil(fraction.length / 4) * 4, "0");
    const digits: number[] = [];
    for (let index = 0; index < wholePadded.length; index += 4) digits.push(Number(wholePadded.slice(index, index + 4)));
    let weight = digits.length - 1;
    for (let index = 0; index < fractionPadded.length; index += 4) digits.push(Number(fractionPadded.slice(index, index + 4)));
    let first = 0;
    while (first < digits.length && digits[first] === 0) {
      first++;
      weight--;
    }
    let last = digits.length;
    while (last > first && digits[last - 1] === 0) last--;
    const count = last - first;
    // Zero is no digits, weight 0, positive (numeric_send of 0 or -0).
    const negative = count > 0 && parts[1] === "-";
    this.room(12 + 2 * count);
    this.view.setInt32(this.offset, 8 + 2 * count);
    this.view.setInt16(this.offset + 4, count);
    this.view.setInt16(this.offset + 6, count === 0 ? 0 : weight);
    this.view.setUint16(this.offset + 8, negative ? 0x4000 : 0);
    this.view.setInt16(this.offset + 10, fraction.length);
    this.offset += 12;
    for (let index = first; index < last; index++) {
      this.view.setInt16(this.offset, digits[index] as number);
      this.offset += 2;
    }
  }

  /** A one-dimensional text[] field (no NULL elements). */
  textArray(values: readonly string[] | null): void {
    if (values === null) {
      this.null();
      return;
    }
    const lengthAt = this.offset;
    this.room(4 + 20);
    this.offset += 4;
    // Dimensions (0 for an empty array), has-nulls flag, element type; then each dimension's size and lower bound.
    this.int32(values.length === 0 ? 0 : 1);
    this.int32(0);
    this.int32(textOid);
    if (values.length > 0) {
      this.int32(values.length);
      this.int32(1);
    }
    for (const value of values) this.text(value);
    this.view.setInt32(lengthAt, this.offset - lengthAt - 4);
  }

  /** The stream, ended: the bytes to COPY … FROM with (format binary). The writer is done after this. */
  bytes(): Uint8Array<ArrayBuffer> {
    this.room(2);
    this.view.setInt16(this.offset, -1);
    this.offset += 2;
    return this.buffer.subarray(0, this.offset);
  }

  /** Writes a field's length, `bytes`, and keeps its room: where its value goes. */
  private field(bytes: number): number {
    this.room(4 + bytes);
    this.view.setInt32(this.offset, bytes);
    const at = this.offset + 4;
    this.offset = at + bytes;
    return at;
  }

  private null(): void {
    this.room(4);
    this.view.setInt32(this.offset, -1);
    this.offset += 4;
  }

  private int32(value: number): void {
    this.room(4);
    this.view.setInt32(this.offset, value);
    this.offset += 4;
  }

  /** Makes room for `bytes` more, doubling the buffer. */
  private room(bytes: number): void {
    if (this.offset + bytes <= this.buffer.length) return;
    let size = this.buffer.length * 2;
    while (size < this.offset + bytes) size *= 2;
    const grown = new Uint8Array(size);
    grown.set(this.buffer.subarray(0, this.offset));
    this.buffer = grown;
    this.view = new DataView(grown.buffer);
  }
}
