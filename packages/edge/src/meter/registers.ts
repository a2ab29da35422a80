/**
 * Meter register maps and the decoding of their words (pure: no file access here; maps.ts loads the
 * files). A map is data, one JSON file per model under packages/edge/maps/, checked by `MapFile` below.
 * Addresses in a `RegisterMap` are protocol addresses (0-based, what goes on the wire); a file whose
 * document numbers registers from 1 says `"numbering": "one-based"` and its addresses are moved down by 1.
 */
import { z } from "zod";

/** The order of the 4 bytes of a 32-bit value as read, A the most significant: ABCD big-endian, CDAB low word first. */
export const WordOrder = z.enum(["ABCD", "CDAB", "BADC", "DCBA"]);
export type WordOrder = z.infer<typeof WordOrder>;
export const Encoding = z.enum(["float32", "float64", "int16", "uint16", "int32", "uint32", "int64", "uint64"]);
export type Encoding = z.infer<typeof Encoding>;

export type Field = {
  address: number;
  encoding: Encoding;
  /** Multiply the raw value by this to get the unit of the quantity (kWh, kvarh, kW, V, A, PF). */
  scale: number;
  /** Schneider's 4-quadrant power factor encoding (−2…2). */
  pf4q?: boolean;
};

/** A map's model name: the file's name and the meter's `driver` in the gateway config (lower case, e.g. `sdm630`). */
export type Model = string;

/** The quantities the gateway reads from every counter meter, and the unit each is in after `scale`. */
export const roles = { energy: "kWh", reactive: "kvarh", power: "kW", voltage: "V", current: "A", powerFactor: "ratio" } as const;
export type Role = keyof typeof roles;

/**
 * A map's public document, and the other public tables each register was checked against (`checkedAgainst`:
 * which document, where, and what it confirmed or could not).
 */
export type Source = { document: string; url?: string; checkedAgainst?: { document: string; url?: string; confirms: string }[] };

export type RegisterMap = {
  model: Model;
  /** The meter's name as its maker writes it. */
  name: string;
  /** The public document the registers were taken from, and what else each one was checked against. */
  source: Source;
  function: "input" | "holding";
  wordOrder: WordOrder;
  /** Cumulative import energy (kWh after scale). */
  energy: Field;
  /** Cumulative import reactive energy (kVArh after scale). */
  reactive?: Field;
  power: Field;
  voltage: Field;
  current: Field;
  powerFactor?: Field;
  /** Where the energy counter wraps to zero, in kWh (integer counters, and floats whose document gives an overflow). */
  energyModulusKwh?: number;
  /** What the model's class says about the circuit, for its rating when the config gives neither `maxKw` nor `ct` (rating.ts). */
  meterClass: MeterClass;
};

/**
 * A meter model's class: its nominal line-to-neutral voltage, phases, and either the most current it
 * takes on direct connection or, for CT-only panel meters that scale by their own CT setup, a default kW.
 */
export type MeterClass = {
  phases: 1 | 3;
  /** Nominal line-to-neutral voltage of its voltage inputs, V. */
  voltsLN: number;
  /** Where the figures come from. */
  source: string;
} & (
  | {
      /** Direct connection: the most current (Imax) the meter takes, A. */
      maxAmps: number;
      defaultKw?: never;
    }
  | {
      /** CT-only meters: the class default limit, kW. */
      defaultKw: number;
      maxAmps?: never;
    }
);

/** A register address or word as the documents write it: a number, or hex text ("0x0048"). */
const Word = z.union([
  z.number().int().min(0).max(0xffff),
  z
    .string()
    .regex(/^0x[0-9a-fA-F]{1,4}$/, "must be a number 0…65535 or hex text like 0x0048")
    .transform((text) => Number.parseInt(text, 16)),
]);

const FileField = (role: Role) =>
  z
    .object({
      address: Word,
      type: Encoding,
      /** Raw value × scale = the value in `unit`. */
      scale: z.number().positive().finite(),
      unit: z.literal(roles[role], { error: `${role} must be in ${roles[role]} after scale` }),
      /** The unit the document gives for the raw register (W, Wh, 0.01 kWh…), for people checking the scale. */
      documentUnit: z.string().optional(),
      pf4q: z.boolean().optional(),
    })
    .strict();

const Example = z
  .object({
    field: z.enum(Object.keys(roles) as [Role, ...Role[]]),
    registers: z.array(Word).min(1),
    value: z.number().finite(),
    /** How far the decoded value may be from `value` (float32 keeps ~7 digits). */
    tolerance: z.number().nonnegative(),
    /** How the words follow from the value by the document's encoding, for the reader. */
    derivation: z.string().min(1),
  })
  .strict();

const MeterClassFile = z.union([
  z
    .object({ phases: z.union([z.literal(1), z.literal(3)]), voltsLN: z.number().positive(), maxAmps: z.number().positive(), source: z.string().min(1) })
    .strict(),
  z
    .object({ phases: z.union([z.literal(1), z.literal(3)]), voltsLN: z.number().positive(), defaultKw: z.number().positive(), source: z.string().min(1) })
    .strict(),
]);

const integer = (encoding: Encoding) => !encoding.startsWith("float");

/**
 * One meter map file (packages/edge/maps/<model>.json). Every register the gateway reads, its type, the
 * word order, scale to the unit, the energy counter's modulus, the class default for the rating, the
 * public document it was taken from, and register images from that document's encoding to check it by.
 */
export const MapFile = z
  .object({
    $schema: z.string().optional(),
    model: z.string().regex(/^[a-z0-9][a-z0-9_-]*$/, "model must be lower case letters, digits, - or _"),
    name: z.string().min(1),
    source: z
      .object({
        document: z.string().min(1),
        url: z.string().url().optional(),
        checkedAgainst: z.array(z.object({ document: z.string().min(1), url: z.string().url().optional(), confirms: z.string().min(1) }).strict()).optional(),
      })
      .strict(),
    function: z.enum(["input", "holding"]),
    wordOrder: WordOrder,
    /** "address": the file gives protocol addresses (0-based); "one-based": the document's register numbers, sent as n − 1. */
    numbering: z.enum(["address", "one-based"]),
    fields: z
      .object({
        energy: FileField("energy"),
        reactive: FileField("reactive").optional(),
        power: FileField("power"),
        voltage: FileField("voltage"),
        current: FileField("current"),
        powerFactor: FileField("powerFactor").optional(),
      })
      .strict(),
    energyModulusKwh: z.number().positive().optional(),
    meterClass: MeterClassFile,
    examples: z.array(Example).min(1, "give at least one register image from the document to check the map by"),
  })
  .strict()
  .superRefine((file, ctx) => {
    if (integer(file.fields.energy.type) && file.energyModulusKwh === undefined)
      ctx.addIssue({ code: "custom", path: ["energyModulusKwh"], message: `an integer energy counter (${file.fields.energy.type}) wraps: give where, in kWh` });
    if (file.numbering === "one-based")
      for (const [role, field] of Object.entries(file.fields))
        if (field.address === 0) ctx.addIssue({ code: "custom", path: ["fields", role, "address"], message: "one-based register numbers start at 1" });
    file.examples.forEach((example, index) => {
      const field = file.fields[example.field];
      if (!field) ctx.addIssue({ code: "custom", path: ["examples", index, "field"], message: `the map has no ${example.field} field` });
      else if (example.registers.length !== wordsOf(field.type))
        ctx.addIssue({ code: "custom", path: ["examples", index, "registers"], message: `${field.type} takes ${wordsOf(field.type)} registers` });
    });
  });
export type MapFile = z.input<typeof MapFile>;

export class MapFileError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "MapFileError";
  }
}

/**
 * Checks one map file's JSON and turns it into a `RegisterMap`. `file` names it in errors.
 * Throws MapFileError listing each problem as `file: path: message`.
 * @example parseMap(JSON.parse(text), "maps/sdm630.json").energy // { address: 72, encoding: "float32", scale: 1 }
 */
export function parseMap(json: unknown, file: string): RegisterMap & { examples: z.output<typeof Example>[] } {
  const parsed = MapFile.safeParse(json);
  if (!parsed.success)
    throw new MapFileError(
      `meter map ${file} is not valid: ${parsed.error.issues.map((issue) => `${file}: ${issue.path.join(".") || "(root)"}: ${issue.message}`).join("; ")}`,
    );
  const data = parsed.data;
  const shift = data.numbering === "one-based" ? 1 : 0;
  const field = (spec: z.output<ReturnType<typeof FileField>>): Field => ({
    address: spec.address - shift,
    encoding: spec.type,
    scale: spec.scale,
    ...(spec.pf4q ? { pf4q: true } : {}),
  });
  const optional = (spec: z.output<ReturnType<typeof FileField>> | undefined) => (spec ? field(spec) : undefined);
  return {
    model: data.model,
    name: data.name,
    source: data.source,
    function: data.function,
    wordOrder: data.wordOrder,
    energy: field(data.fields.energy),
    reactive: optional(data.fields.reactive),
    power: field(data.fields.power),
    voltage: field(data.fields.voltage),
    current: field(data.fields.current),
    powerFactor: optional(data.fields.powerFactor),
    energyModulusKwh: data.energyModulusKwh,
    meterClass: data.meterClass,
    examples: data.examples,
  };
}

/**
 * Each encoding's size in registers (16-bit words) and how its value reads from and writes to big-endian bytes; an
 * integer encoding rounds the value it writes.
 */
const codecs: Record<Encoding, { words: number; read(bytes: Buffer): number; write(bytes: Buffer, raw: number): void }> = {
  float32: { words: 2, read: (bytes) => bytes.readFloatBE(0), write: (bytes, raw) => bytes.writeFloatBE(raw, 0) },
  float64: { words: 4, read: (bytes) => bytes.readDoubleBE(0), write: (bytes, raw) => bytes.writeDoubleBE(raw, 0) },
  int16: { words: 1, read: (bytes) => bytes.readInt16BE(0), write: (bytes, raw) => bytes.writeInt16BE(Math.round(raw), 0) },
  uint16: { words: 1, read: (bytes) => bytes.readUInt16BE(0), write: (bytes, raw) => bytes.writeUInt16BE(Math.round(raw), 0) },
  int32: { words: 2, read: (bytes) => bytes.readInt32BE(0), write: (bytes, raw) => bytes.writeInt32BE(Math.round(raw), 0) },
  uint32: { words: 2, read: (bytes) => bytes.readUInt32BE(0), write: (bytes, raw) => bytes.writeUInt32BE(Math.round(raw), 0) },
  int64: { words: 4, read: (bytes) => Number(bytes.readBigInt64BE(0)), write: (bytes, raw) => bytes.writeBigInt64BE(BigInt(Math.round(raw)), 0) },
  uint64: { words: 4, read: (bytes) => Number(bytes.readBigUInt64BE(0)), write: (bytes, raw) => bytes.writeBigUInt64BE(BigInt(Math.round(raw)), 0) },
};

/** Registers (16-bit words) a value of this encoding takes. */
export function wordsOf(encoding: Encoding): number {
  return codecs[encoding].words;
}

/** Puts the registers' bytes in big-endian order (ABCD…) for a value of `words` registers. */
function toBigEndian(registers: readonly number[], order: WordOrder): Buffer {
  const bytes = Buffer.alloc(registers.length * 2);
  registers.forEach((word, index) => {
    bytes.writeUInt16BE(word & 0xffff, index * 2);
  });
  if (registers.length === 1) return order === "BADC" || order === "DCBA" ? Buffer.from([bytes[1] ?? 0, bytes[0] ?? 0]) : bytes;
  let out = bytes;
  // Word order: CDAB and DCBA send the least significant word first.
  if (order === "CDAB" || order === "DCBA") {
    out = Buffer.alloc(bytes.length);
    for (let word = 0; word < registers.length; word++) bytes.copy(out, (registers.length - 1 - word) * 2, word * 2, word * 2 + 2);
  }
  // Byte order within each word: BADC and DCBA swap the two bytes.
  if (order === "BADC" || order === "DCBA") {
    const swapped = Buffer.from(out);
    for (let index = 0; index < swapped.length; index += 2) {
      swapped[index] = out[index + 1] ?? 0;
      swapped[index + 1] = out[index] ?? 0;
    }
    out = swapped;
  }
  return out;
}

/** The inverse of `toBigEndian` (the same permutation applied again gives the wire order back). */
function fromBigEndian(bytes: Buffer, order: WordOrder): number[] {
  const words = bytes.length / 2;
  const registers: number[] = [];
  for (let index = 0; index < words; index++) registers.push(bytes.readUInt16BE(index * 2));
  return [...toBigEndian(registers, order)].reduce<number[]>((acc, byte, index) => {
    if (index % 2 === 0) acc.push(byte << 8);
    else acc[acc.length - 1] = (acc[acc.length - 1] ?? 0) | byte;
    return acc;
  }, []);
}

/** Decodes a field from the registers read at its address. */
export function decode(registers: readonly number[], field: Field, order: WordOrder): number {
  const words = wordsOf(field.encoding);
  if (registers.length < words) throw new RangeError(`${field.encoding} needs ${words} registers, got ${registers.length}`);
  const value = codecs[field.encoding].read(toBigEndian(registers.slice(0, words), order)) * field.scale;
  return field.pf4q ? decodePf4q(value) : value;
}

/** The registers a meter would send for a value (test servers and the Modbus simulator use it). */
export function encode(value: number, field: Field, order: WordOrder): number[] {
  const words = wordsOf(field.encoding);
  const bytes = Buffer.alloc(words * 2);
  const raw = field.pf4q ? encodePf4q(value) / field.scale : value / field.scale;
  codecs[field.encoding].write(bytes, raw);
  return fromBigEndian(bytes, order);
}

/**
 * Schneider's 4-quadrant PF: −1…1 is the PF itself in quadrants where it is reported as is; values
 * beyond ±1 fold back (x > 1 → 2 − x, x < −1 → −2 − x). The result keeps the sign (lead/lag).
 */
export function decodePf4q(value: number): number {
  if (value > 1) return 2 - value;
  if (value < -1) return -2 - value;
  return value;
}

function encodePf4q(pf: number): number {
  // A lagging (inductive) load, the common case for motors, is reported as is.
  return pf;
}
