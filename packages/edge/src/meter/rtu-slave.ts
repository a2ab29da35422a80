/**
 * A simulated Modbus RTU field bus for tests and benchmarks (`npm run bench:edge`): a virtual null-modem pair
 * (socat, two ptys), a Modbus RTU slave answering read input/holding registers (04/03) for many unit ids, with
 * the faults a field bus has (a unit that never answers, answers late, answers with a bad CRC or a wrong byte count), and the
 * register image a meter of a shipped model shows for given values. Needs the `socat` command (a Debian package).
 */
import { type ChildProcess, spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { SerialPort } from "serialport";
import type { Table } from "./bus";
import { mapOf } from "./maps";
import { encode, type Field } from "./registers";

/** Modbus CRC-16 (polynomial 0xA001 reflected, initial 0xFFFF), sent low byte first: Modbus over Serial Line V1.02 §6.2.2. */
export function crc16(bytes: Uint8Array): number {
  let crc = 0xffff;
  for (const byte of bytes) {
    crc ^= byte;
    for (let bit = 0; bit < 8; bit++) crc = crc & 1 ? (crc >>> 1) ^ 0xa001 : crc >>> 1;
  }
  return crc;
}

export async function until(condition: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const began = Date.now();
  while (!condition()) {
    if (Date.now() - began > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** Two ptys joined by socat like a null-modem cable: the gateway opens `master`, the slave `slave`. */
export async function virtualLine(dir: string): Promise<{ master: string; slave: string; close(): Promise<void> }> {
  const master = join(dir, "ttyMaster");
  const slave = join(dir, "ttySlave");
  const socat = spawn("socat", ["-d", "-d", `pty,raw,echo=0,link=${master}`, `pty,raw,echo=0,link=${slave}`], { stdio: ["ignore", "ignore", "pipe"] });
  let log = "";
  socat.stderr?.on("data", (chunk: Buffer) => {
    log += chunk.toString();
  });
  await until(() => existsSync(master) && existsSync(slave) && log.includes("starting data transfer loop"), 10_000, `socat (${log})`);
  return { master, slave, close: () => stop(socat) };
}

export async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  child.kill("SIGTERM");
  await exited;
}

/**
 * What a unit of the test slave does wrong: never answer, answer `lateMs` late, spoil the CRC of its next `badCrc` answers,
 * give its next `badByteCount` answers a byte count two short (CRC still right), hold its next `held` answers until it is
 * asked again and send each then, just before the new request's own answer (an answer later than any timeout, as a
 * converter's buffer lets one go).
 */
export type Fault = { silent?: boolean; lateMs?: number; badCrc?: number; badByteCount?: number; held?: number };

/** The registers of a unit: a function of table and address, so counters can move with a clock. */
export type Registers = (table: Table, address: number) => number;

/**
 * A Modbus RTU slave on a serial port answering read input/holding registers (04/03) for several unit
 * ids; frames whose CRC fails and units it does not have get no answer, as on a real bus.
 */
export class RtuSlave {
  readonly units = new Map<number, { registers: Registers; table: Table }>();
  readonly faults = new Map<number, Fault>();
  /** Whether a unit is on the line now (unplugged units never answer). */
  present: (unitId: number) => boolean = () => true;
  requests = 0;
  /**
   * A pty moves bytes at memory speed whatever its baud rate: with `charMs` (one character's time on the line, e.g.
   * 10 bits / 9600 baud for 8N1) each answer waits as long as the request and the answer would take on a real line.
   */
  charMs = 0;
  private port?: SerialPort;
  private buffer = Buffer.alloc(0);
  /** Answers a unit holds (Fault.held) until it is asked again. */
  private readonly heldAnswers = new Map<number, Buffer>();

  async open(path: string, baudRate = 9600): Promise<void> {
    const port = new SerialPort({ path, baudRate, autoOpen: false });
    await new Promise<void>((resolve, reject) => port.open((error) => (error ? reject(error) : resolve())));
    port.on("data", (chunk: Buffer) => this.receive(chunk));
    this.port = port;
  }

  async close(): Promise<void> {
    const port = this.port;
    this.port = undefined;
    if (port?.isOpen) await new Promise<void>((resolve) => port.close(() => resolve()));
  }

  private receive(chunk: Buffer): void {
    this.buffer = Buffer.concat([this.buffer, chunk]);
    // Requests for 03/04 are 8 bytes; a window that fails its CRC is moved on by a byte (resynchronising on noise).
    while (this.buffer.length >= 8) {
      const frame = this.buffer.subarray(0, 8);
      if (crc16(frame.subarray(0, 6)) !== frame.readUInt16LE(6)) {
        this.buffer = this.buffer.subarray(1);
        continue;
      }
      this.buffer = this.buffer.subarray(8);
      this.answer(frame);
    }
  }

  private answer(frame: Buffer): void {
    const unitId = frame[0] ?? 0;
    const code = frame[1] ?? 0;
    const address = frame.readUInt16BE(2);
    const count = frame.readUInt16BE(4);
    const unit = this.units.get(unitId);
    const fault = this.faults.get(unitId) ?? {};
    this.requests++;
    if (!unit || fault.silent || !this.present(unitId)) return;
    const stale = this.heldAnswers.get(unitId);
    this.heldAnswers.delete(unitId);
    if (stale) this.port?.write(stale);
    const table: Table | undefined = code === 4 ? "input" : code === 3 ? "holding" : undefined;
    let body: Buffer;
    if (!table || table !== unit.table || count < 1 || count > 125) {
      // Exception 01 (illegal function) for the wrong table, 03 (illegal data value) for a bad count.
      body = Buffer.from([unitId, code | 0x80, table && table === unit.table ? 3 : 1]);
    } else {
      body = Buffer.alloc(3 + count * 2);
      body[0] = unitId;
      body[1] = code;
      body[2] = count * 2;
      if (fault.badByteCount && fault.badByteCount > 0) {
        fault.badByteCount--;
        body[2] -= 2;
      }
      for (let index = 0; index < count; index++) body.writeUInt16BE(unit.registers(table, address + index) & 0xffff, 3 + index * 2);
    }
    const out = Buffer.alloc(body.length + 2);
    body.copy(out);
    let crc = crc16(body);
    if (fault.badCrc && fault.badCrc > 0) {
      fault.badCrc--;
      crc ^= 0x5a5a;
    }
    out.writeUInt16LE(crc, body.length);
    if (fault.held && fault.held > 0) {
      fault.held--;
      this.heldAnswers.set(unitId, out);
      return;
    }
    const send = () => this.port?.write(out);
    const delay = (fault.lateMs ?? 0) + (frame.length + out.length) * this.charMs;
    if (delay > 0) setTimeout(send, delay);
    else send();
  }
}

/** The registers of a meter of `model` reading `values` (engineering units), as its map lays them out. */
export function imageOf(
  model: string,
  values: { kwh: number; kvarh?: number; kw: number; voltage: number; current: number; pf?: number },
): Map<number, number> {
  const map = mapOf(model);
  const words = new Map<number, number>();
  const put = (field: Field | undefined, value: number | undefined) => {
    if (!field || value === undefined) return;
    for (const [offset, word] of encode(value, field, map.wordOrder).entries()) words.set(field.address + offset, word);
  };
  put(map.energy, values.kwh);
  put(map.reactive, values.kvarh);
  put(map.power, values.kw);
  put(map.voltage, values.voltage);
  put(map.current, values.current);
  put(map.powerFactor, values.pf);
  return words;
}
