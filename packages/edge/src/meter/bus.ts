/**
 * A Modbus bus: an RS-485 line (Modbus RTU through a serial port) or a TCP link (Modbus TCP, or RTU
 * frames over TCP to a serial gateway), shared by every meter on it. One request at a time (a queue),
 * a timeout and retries per request, and counts of what went wrong (timeouts, CRC errors, exceptions,
 * answers that did not match their request, stray frames, port errors) for `edge status` and the heartbeat.
 * Through modbus-serial (and serialport under it).
 */
import type { EventEmitter } from "node:events";
import { modbusBus } from "@wattflow/core/config";
import ModbusRTU from "modbus-serial";
import { sleep } from "../clock";

export type SerialLink = { path: string; baudRate: number; parity: "none" | "even" | "odd"; dataBits: 7 | 8; stopBits: 1 | 2 };
export type TcpLink = { host: string; port: number; rtuOverTcp?: boolean };
/** A bus as the gateway config gives it (`buses.<name>`), or the link of a meter configured with `host`/`port`. */
export type BusSpec = (SerialLink | TcpLink) & { timeoutMs?: number; retries?: number; interFrameMs?: number };

export type Table = "input" | "holding";
/** `frame`: an answer that passed its CRC but does not answer the request (its byte count, its length): never decoded. */
export type FailureKind = "timeout" | "crc" | "exception" | "frame" | "port";

/** What a bus has done since the agent started: requests sent, answered, and each kind of failure. */
export type BusStats = {
  bus: string;
  link: string;
  requests: number;
  answered: number;
  timeouts: number;
  crcErrors: number;
  exceptions: number;
  portErrors: number;
  retries: number;
  /** Answers dropped because they did not match their request (byte count, length): each one retried as a timeout is. */
  badFrames: number;
  /** Frames heard while no request waited for an answer (late answers, noise): dropped, never taken for the next request's. */
  strayFrames: number;
  /** How long the bus took over its last cycle, ms: from the cycle's start to its last answer or failure; null before one ended. */
  lastCycleMs: number | null;
  lastError?: string;
};

export class BusError extends Error {
  constructor(
    message: string,
    readonly kind: FailureKind,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = "BusError";
  }
}

/** An answer that passed modbus-serial's checks but not the bus's (see Bus.read). */
class BusFrameError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "BusFrameError";
  }
}

const isSerial = (spec: BusSpec): spec is SerialLink & BusSpec => "path" in spec;

/** "/dev/ttyUSB0 at 9600 8N1", "10.0.0.5:502 (Modbus TCP)": how a bus is named in messages. */
export function describeLink(spec: BusSpec): string {
  if (isSerial(spec)) return `${spec.path} at ${spec.baudRate} ${spec.dataBits}${spec.parity[0]?.toUpperCase()}${spec.stopBits}`;
  return `${spec.host}:${spec.port} (${spec.rtuOverTcp ? "RTU over TCP" : "Modbus TCP"})`;
}

/**
 * The silence kept between frames, ms: the configured `interFrameMs`, else Modbus over Serial Line
 * V1.02 §2.5.1.1: 3.5 character times (start + data + parity + stop bits each) up to 19,200 baud, 1.75 ms
 * above; none on TCP.
 */
export function interFrameMs(spec: BusSpec): number {
  if (spec.interFrameMs !== undefined) return spec.interFrameMs;
  if (!isSerial(spec)) return 0;
  if (spec.baudRate > 19_200) return modbusBus.minInterFrameMs;
  const bits = 1 + spec.dataBits + (spec.parity === "none" ? 0 : 1) + spec.stopBits;
  return (modbusBus.interFrameChars * bits * 1000) / spec.baudRate;
}

/**
 * modbus-serial's failures by kind: its timeout, its CRC check, a Modbus exception answer (it takes one only with the
 * asked function | 0x80), an answer of the wrong length or unit or function, or one whose byte count runs past the
 * frame (its parser's RangeError), or else the port itself.
 */
function kindOf(error: unknown): FailureKind {
  const failure = error as { name?: string; message?: string; modbusCode?: number; code?: string };
  if (failure.name === "TransactionTimedOutError" || failure.message === "Timed out") return "timeout";
  if (failure.message === "CRC error") return "crc";
  if (typeof failure.modbusCode === "number") return "exception";
  if (failure.code === "ERR_OUT_OF_RANGE" || /^(Data length error|Unexpected data error)/.test(failure.message ?? "")) return "frame";
  return "port";
}

/**
 * RTU has no transaction id: bytes left from an answer that came after its timeout would be taken for the
 * next request's answer. The line is half-duplex and nothing is valid before a request is sent, so what
 * modbus-serial's buffered port holds then is dropped (its `_buffer`, the one place it keeps them).
 */
function discardPending(client: ModbusRTU): number {
  const port = (client as unknown as { _port?: { _buffer?: unknown } })._port;
  if (!port || !Buffer.isBuffer(port._buffer)) return 0;
  const dropped = port._buffer.length;
  port._buffer = Buffer.alloc(0);
  return dropped;
}

/** The byte stream under modbus-serial's buffered RTU ports (the serial port, or the socket to an RTU-over-TCP gateway). */
function lineOf(client: ModbusRTU): EventEmitter | undefined {
  return (client as unknown as { _port?: { _client?: EventEmitter } })._port?._client;
}

/** How often a bus looks again whether an owed answer has come. */
const owedPollMs = 5;

export class Bus {
  readonly link: string;
  readonly timeoutMs: number;
  readonly retries: number;
  private readonly gapMs: number;
  private client: ModbusRTU | undefined;
  private tail: Promise<unknown> = Promise.resolve();
  /** performance.now() ms: the end of the silence after the last request, the last byte heard, the last request sent. */
  private quietFrom = 0;
  private lastByteAt = Number.NEGATIVE_INFINITY;
  private sentAt = Number.NEGATIVE_INFINITY;
  /** Whether a request is on the line waiting for its answer: bytes heard otherwise are stray. */
  private waiting = false;
  /** Whether the last bytes heard were stray (else an answer's, or none yet). */
  private strayLast = false;
  /** Requests sent whose answer has not come: a late one may still arrive, and RTU cannot tell it from the next request's. */
  private owed = 0;
  private closed = false;
  private readonly counts: Omit<BusStats, "bus" | "link" | "lastCycleMs">;
  /** The current cycle's start and its last settled request (performance.now() ms), and the last whole cycle's length. */
  private cycleStartedAt: number | undefined;
  private cycleSettledAt: number | undefined;
  private lastCycleMs: number | null = null;

  constructor(
    readonly name: string,
    private readonly spec: BusSpec,
  ) {
    this.link = describeLink(spec);
    this.timeoutMs = spec.timeoutMs ?? modbusBus.timeoutMs;
    this.retries = spec.retries ?? modbusBus.retries;
    this.gapMs = interFrameMs(spec);
    this.counts = { requests: 0, answered: 0, timeouts: 0, crcErrors: 0, exceptions: 0, portErrors: 0, retries: 0, badFrames: 0, strayFrames: 0 };
  }

  /**
   * Reads `length` registers at protocol address `address` from unit `unitId`, waiting its turn on the bus.
   * Takes at most `tries` × timeoutMs on the line (default retries + 1), and timeoutMs of waiting for a late
   * answer to die away before each retry. Frames from other units are told apart by their unit id, so only
   * a retry needs that wait; a retry answered while the try before still owes its answer keeps the line until that
   * answer has come (as a stray frame) or a timeout after the retry (see `quiet`). Throws BusError: `timeout`
   * ("no answer from unit 3 on /dev/ttyUSB0 at 9600 8N1 within 500 ms"), `crc`, `frame` (an answer that does not
   * match the request), `exception` (the unit answered with a Modbus exception: never retried), `port` (the port
   * cannot be opened or broke).
   */
  read(unitId: number, table: Table, address: number, length: number, options: { tries?: number } = {}): Promise<number[]> {
    const tries = Math.max(1, options.tries ?? this.retries + 1);
    const task = () =>
      this.attempt(unitId, table, address, length, tries).finally(() => {
        if (this.cycleStartedAt !== undefined) this.cycleSettledAt = performance.now();
      });
    const run = this.tail.then(task, task);
    this.tail = run.catch(() => undefined);
    return run;
  }

  stats(): BusStats {
    return { bus: this.name, link: this.link, ...this.counts, lastCycleMs: this.lastCycleMs };
  }

  /** A read cycle starts: requests settled from now on count toward its length. */
  beginCycle(at = performance.now()): void {
    this.cycleStartedAt = at;
    this.cycleSettledAt = undefined;
  }

  /** The cycle is over: its length is from its start to its last settled request (a bus asked nothing keeps the last length). */
  endCycle(): void {
    if (this.cycleStartedAt !== undefined && this.cycleSettledAt !== undefined)
      this.lastCycleMs = Math.round((this.cycleSettledAt - this.cycleStartedAt) * 10) / 10;
    this.cycleStartedAt = undefined;
  }

  async close(): Promise<void> {
    this.closed = true;
    await this.tail;
    await this.drop();
  }

  private async attempt(unitId: number, table: Table, address: number, length: number, tries: number): Promise<number[]> {
    let last: BusError | undefined;
    for (let attempt = 1; attempt <= tries; attempt++) {
      if (attempt > 1) {
        this.counts.retries++;
        // The retry asks the same unit: its late answer to the try before must have come and gone (dropped below), or it
        // would be taken for this one's and every answer after it would be one behind.
        if (last?.kind !== "port") await sleep(this.timeoutMs);
      }
      const client = await this.open();
      await this.quiet(client, attempt === 1);
      client.setID(unitId);
      client.setTimeout(this.timeoutMs);
      this.counts.requests++;
      this.owed++;
      this.sentAt = performance.now();
      this.waiting = true;
      try {
        const result = table === "input" ? await client.readInputRegisters(address, length) : await client.readHoldingRegisters(address, length);
        // modbus-serial takes the registers its byte count says: an answer for another quantity is not this request's.
        if (result.data.length !== length) throw new BusFrameError(`its byte count is ${result.data.length * 2}, ${length * 2} expected`);
        this.owed--;
        this.counts.answered++;
        return result.data;
      } catch (error) {
        last = this.failure(error, unitId, table, address, length);
        // Whatever came back (a CRC error, an exception, a mismatched answer) ended the request; a timeout's answer may still come.
        if (last.kind !== "timeout" && last.kind !== "port") this.owed--;
        this.counts.lastError = `${new Date().toISOString()} ${last.message}`;
        if (last.kind === "exception") throw last;
        // A broken TCP link or serial port is opened again on the next try, and so is a Modbus TCP link out of step.
        if (last.kind === "port" || ((last.kind === "timeout" || last.kind === "frame") && !isSerial(this.spec) && !this.spec.rtuOverTcp)) await this.drop();
      } finally {
        this.waiting = false;
        this.quietFrom = performance.now() + this.gapMs;
      }
    }
    throw last ?? new BusError(`no request sent to unit ${unitId} on ${this.link}`, "port");
  }

  /**
   * Before a try: nothing sent earlier may answer into it (RTU frames carry no transaction id). Before a new request,
   * an answer the last one still owes (a try that timed out, then its retry answered: by the late answer or its own)
   * is waited for until it comes, as a stray frame, or a timeout after the last try; a retry keeps its tries' debt.
   * Then a line still talking, until it has been silent for the inter-frame time; then whatever the port holds is dropped.
   */
  private async quiet(client: ModbusRTU, newRequest: boolean): Promise<void> {
    if (newRequest) {
      const owedUntil = this.sentAt + this.timeoutMs;
      while (this.owed > 0 && performance.now() < owedUntil) await sleep(Math.min(owedPollMs, owedUntil - performance.now()));
      this.owed = 0;
    }
    // Waited again only if the line talked meanwhile: a timer that ends a hair early is not a line still talking.
    for (let heardAt = Number.NaN; heardAt !== this.lastByteAt; ) {
      heardAt = this.lastByteAt;
      await sleep(this.silentAt() - performance.now());
    }
    // Bytes the port still holds that came in with the last answer (not heard as stray) are a stray frame too.
    if (discardPending(client) > 0 && !this.strayLast) this.counts.strayFrames++;
  }

  private silentAt(): number {
    return Math.max(this.quietFrom, this.lastByteAt + this.gapMs);
  }

  /**
   * Bytes off the line. While no request waits they are stray: one frame from the end of an answer or from an
   * inter-frame silence on.
   */
  private heard(): void {
    const now = performance.now();
    if (!this.waiting && (!this.strayLast || now - this.lastByteAt >= this.gapMs)) {
      this.counts.strayFrames++;
      // Most likely the late answer still owed: once it is in, the line is free.
      if (this.owed > 0) this.owed--;
    }
    this.strayLast = !this.waiting;
    this.lastByteAt = now;
  }

  private failure(error: unknown, unitId: number, table: Table, address: number, length: number): BusError {
    const kind = error instanceof BusFrameError ? "frame" : kindOf(error);
    const what = `${length} ${table} register(s) at ${address}`;
    const message = (error as Error).message;
    switch (kind) {
      case "timeout":
        this.counts.timeouts++;
        return new BusError(`no answer from unit ${unitId} on ${this.link} within ${this.timeoutMs} ms`, kind, { cause: error });
      case "crc":
        this.counts.crcErrors++;
        return new BusError(
          `answer from unit ${unitId} on ${this.link} failed its CRC check (reading ${what}): check wiring, termination and the baud rate`,
          kind,
          {
            cause: error,
          },
        );
      case "frame":
        this.counts.badFrames++;
        return new BusError(`answer from unit ${unitId} on ${this.link} does not match its request (reading ${what}): ${message}; dropped`, kind, {
          cause: error,
        });
      case "exception":
        this.counts.exceptions++;
        return new BusError(`unit ${unitId} on ${this.link} refused to read ${what}: ${message}`, kind, { cause: error });
      case "port":
        this.counts.portErrors++;
        return new BusError(`${this.link}: ${message}`, kind, { cause: error });
    }
  }

  private async open(): Promise<ModbusRTU> {
    if (this.closed) throw new BusError(`bus ${this.name} (${this.link}) is closed`, "port");
    if (this.client?.isOpen) return this.client;
    await this.drop();
    const client = new ModbusRTU();
    const spec = this.spec;
    try {
      if (isSerial(spec))
        await client.connectRTUBuffered(spec.path, { baudRate: spec.baudRate, parity: spec.parity, dataBits: spec.dataBits, stopBits: spec.stopBits });
      else if (spec.rtuOverTcp) await client.connectTcpRTUBuffered(spec.host, { port: spec.port });
      else await client.connectTCP(spec.host, { port: spec.port, timeout: modbusBus.connectTimeoutMs });
    } catch (error) {
      this.counts.portErrors++;
      const failure = new BusError(`cannot open ${this.link}: ${(error as Error).message}`, "port", { cause: error });
      this.counts.lastError = `${new Date().toISOString()} ${failure.message}`;
      throw failure;
    }
    // A serial port that goes away (USB adapter unplugged) is opened again on the next request.
    client.on("close", () => {
      if (this.client === client) this.client = undefined;
    });
    client.on("error", () => {});
    // RTU has no transaction id: the bus listens to the line itself to tell stray frames from answers.
    if (isSerial(spec) || spec.rtuOverTcp) lineOf(client)?.on("data", () => this.heard());
    this.client = client;
    return client;
  }

  private async drop(): Promise<void> {
    const client = this.client;
    this.client = undefined;
    // A new link owes nothing: what the old one would still have carried is gone with it.
    this.owed = 0;
    if (client?.isOpen) await new Promise<void>((done) => client.close(() => done()));
  }
}

/**
 * The buses of a gateway: each named bus of the config, and one per `host:port` of meters configured
 * the old way (a TCP gateway answering several unit ids shares one link, one request at a time).
 */
export class Buses {
  private readonly byName = new Map<string, Bus>();

  constructor(private readonly named: Record<string, BusSpec> = {}) {}

  /** The bus a meter reads through: its `bus`, else its `host`/`port` (Modbus TCP, port 502 by default). */
  for(meter: { bus?: string; host?: string; port?: number }): Bus {
    const name = meter.bus ?? `${meter.host ?? "127.0.0.1"}:${meter.port ?? 502}`;
    const existing = this.byName.get(name);
    if (existing) return existing;
    const spec = meter.bus !== undefined ? this.named[meter.bus] : { host: meter.host ?? "127.0.0.1", port: meter.port ?? 502 };
    if (!spec) throw new BusError(`no bus named "${meter.bus}" in the config's buses`, "port");
    const bus = new Bus(name, spec);
    this.byName.set(name, bus);
    return bus;
  }

  stats(): BusStats[] {
    return [...this.byName.values()].map((bus) => bus.stats());
  }

  /** Every bus starts timing a read cycle (the boundary's reads are about to be asked). */
  beginCycle(): void {
    const at = performance.now();
    for (const bus of this.byName.values()) bus.beginCycle(at);
  }

  /** Every bus notes how long the cycle took it. */
  endCycle(): void {
    for (const bus of this.byName.values()) bus.endCycle();
  }

  async close(): Promise<void> {
    await Promise.all([...this.byName.values()].map((bus) => bus.close()));
  }
}
