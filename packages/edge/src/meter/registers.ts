/**
 * Register maps of the supported meters and the decoding of their words (pure). Addresses here are
 * protocol addresses (0-based); where a manual numbers registers from 1 the map says so and subtracts 1.
 * Sources: Eastron SDM630 Modbus protocol, Schneider PM5xxx register list, Carlo Gavazzi EM24 protocol.
 */

/** The order of the 4 bytes of a 32-bit value as read, A the most significant: ABCD big-endian, CDAB low word first. */
export type WordOrder = "ABCD" | "CDAB" | "BADC" | "DCBA";
export type Encoding = "float32" | "int16" | "uint16" | "int32" | "uint32" | "int64" | "uint64";

export type Field = {
  address: number;
  encoding: Encoding;
  /** Multiply the raw value by this to get the unit of the quantity (kWh, kW, V, A, PF). */
  scale: number;
  /** Schneider's 4-quadrant power factor encoding (−2…2). */
  pf4q?: boolean;
};

export type Model = "sdm630" | "pm5xxx" | "em24";

export type RegisterMap = {
  model: Model;
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
  /** Where the energy counter wraps to zero, in kWh (integer counters only). */
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

/** Manuals that number registers from 1: the address on the wire is one less. */
const manual = (register: number) => register - 1;

export const maps: Record<Model, RegisterMap> = {
  // Input registers (04), float32 big-endian; floats have no wrap, but lose resolution as they grow.
  sdm630: {
    model: "sdm630",
    function: "input",
    wordOrder: "ABCD",
    voltage: { address: 0x0000, encoding: "float32", scale: 1 },
    current: { address: 0x0006, encoding: "float32", scale: 1 },
    power: { address: 0x0034, encoding: "float32", scale: 0.001 },
    powerFactor: { address: 0x003e, encoding: "float32", scale: 1 },
    energy: { address: 0x0048, encoding: "float32", scale: 1 },
    reactive: { address: 0x004c, encoding: "float32", scale: 1 },
    meterClass: { phases: 3, voltsLN: 230, maxAmps: 100, source: "Eastron SDM630-Modbus datasheet: 230/400 V, direct connection up to 100 A" },
  },
  // Holding registers (03), numbered from 1 in the manual; energy as INT64 Wh (the float32 kWh at 2700 loses resolution).
  pm5xxx: {
    model: "pm5xxx",
    function: "holding",
    wordOrder: "ABCD",
    current: { address: manual(3000), encoding: "float32", scale: 1 },
    voltage: { address: manual(3028), encoding: "float32", scale: 1 },
    power: { address: manual(3060), encoding: "float32", scale: 1 },
    powerFactor: { address: manual(3084), encoding: "float32", scale: 1, pf4q: true },
    energy: { address: manual(3204), encoding: "int64", scale: 0.001 },
    reactive: { address: manual(3220), encoding: "int64", scale: 0.001 },
    meterClass: {
      phases: 3,
      voltsLN: 400,
      defaultKw: 2_500,
      source:
        "Schneider PM5xxx: CT-connected panel meter (inputs up to 400 V L-N) reporting primary values by its own CT setup; class default: a 2,500 kVA transformer, the largest common low-voltage distribution size, at PF 1",
    },
  },
  // INT32 with the low word first; fixed scaling: V×10, A×1000, W×10, PF×1000 (INT16), kWh×10.
  em24: {
    model: "em24",
    function: "holding",
    wordOrder: "CDAB",
    voltage: { address: 0x0000, encoding: "int32", scale: 0.1 },
    current: { address: 0x000c, encoding: "int32", scale: 0.001 },
    power: { address: 0x0028, encoding: "int32", scale: 0.0001 },
    powerFactor: { address: 0x0031, encoding: "int16", scale: 0.001 },
    energy: { address: 0x0034, encoding: "int32", scale: 0.1 },
    reactive: { address: 0x0036, encoding: "int32", scale: 0.1 },
    energyModulusKwh: 2 ** 31 * 0.1,
    meterClass: { phases: 3, voltsLN: 230, maxAmps: 65, source: "Carlo Gavazzi EM24DIN AV9 datasheet: 230/400 V, direct connection up to 65 A" },
  },
};

export function wordsOf(encoding: Encoding): number {
  return encoding === "int16" || encoding === "uint16" ? 1 : encoding === "int64" || encoding === "uint64" ? 4 : 2;
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

function rawValue(bytes: Buffer, encoding: Encoding): number {
  switch (encoding) {
    case "float32":
      return bytes.readFloatBE(0);
    case "int16":
      return bytes.readInt16BE(0);
    case "uint16":
      return bytes.readUInt16BE(0);
    case "int32":
      return bytes.readInt32BE(0);
    case "uint32":
      return bytes.readUInt32BE(0);
    case "int64":
      return Number(bytes.readBigInt64BE(0));
    case "uint64":
      return Number(bytes.readBigUInt64BE(0));
  }
}

/** Decodes a field from the registers read at its address. */
export function decode(registers: readonly number[], field: Field, order: WordOrder): number {
  const words = wordsOf(field.encoding);
  if (registers.length < words) throw new RangeError(`${field.encoding} needs ${words} registers, got ${registers.length}`);
  const value = rawValue(toBigEndian(registers.slice(0, words), order), field.encoding) * field.scale;
  return field.pf4q ? decodePf4q(value) : value;
}

/** The registers a meter would send for a value (test servers and the Modbus simulator use it). */
export function encode(value: number, field: Field, order: WordOrder): number[] {
  const words = wordsOf(field.encoding);
  const bytes = Buffer.alloc(words * 2);
  const raw = field.pf4q ? encodePf4q(value) / field.scale : value / field.scale;
  switch (field.encoding) {
    case "float32":
      bytes.writeFloatBE(raw, 0);
      break;
    case "int16":
      bytes.writeInt16BE(Math.round(raw), 0);
      break;
    case "uint16":
      bytes.writeUInt16BE(Math.round(raw), 0);
      break;
    case "int32":
      bytes.writeInt32BE(Math.round(raw), 0);
      break;
    case "uint32":
      bytes.writeUInt32BE(Math.round(raw), 0);
      break;
    case "int64":
      bytes.writeBigInt64BE(BigInt(Math.round(raw)), 0);
      break;
    case "uint64":
      bytes.writeBigUInt64BE(BigInt(Math.round(raw)), 0);
      break;
  }
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
