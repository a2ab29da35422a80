/**
 * Commissioning a gateway on site (`wattflow edge probe` and `wattflow edge scan`): read one meter once
 * and show every value its map decodes, or list the unit ids that answer on a bus. Same buses and maps
 * as the agent, so what they show is what the agent will read.
 */
import type { Config } from "./config";
import { Bus, BusError, Buses } from "./meter/bus";
import { readFields } from "./meter/driver";
import { mapOf } from "./meter/maps";
import { type Encoding, type Role, roles } from "./meter/registers";

export class CommissionError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "CommissionError";
  }
}

export type ProbeValue = {
  quantity: Role;
  /** The meter's own value in `unit` (before the config's CT/VT ratios). */
  value: number;
  unit: string;
  /** Protocol address (0-based) and type it was read from. */
  address: number;
  type: Encoding;
};

export type Probe = { meterId: string; model: string; name: string; link: string; unitId: number; function: "input" | "holding"; values: ProbeValue[] };

/**
 * Reads meter `meterId` of `config` once: every quantity its map gives, in its unit (kWh, kvarh, kW, V, A,
 * PF as a ratio). Throws CommissionError for a meter not in the config or a simulated one, and for a meter
 * that does not answer, with the bus's own words ("no answer from unit 3 on /dev/ttyUSB0 at 9600 8N1 within 500 ms").
 */
export async function probe(config: Config, meterId: string): Promise<Probe> {
  const meter = config.meters.find((candidate) => candidate.id === meterId);
  if (!meter) throw new CommissionError(`no meter ${meterId} in the config (meters: ${config.meters.map((item) => item.id).join(", ")})`);
  if (meter.driver === "sim") throw new CommissionError(`meter ${meterId} is simulated: there is nothing to probe`);
  const map = mapOf(meter.driver);
  const buses = new Buses(config.buses);
  const bus = buses.for(meter);
  const unitId = meter.unitId ?? 1;
  try {
    const values = await readFields(bus, unitId, map);
    return {
      meterId,
      model: map.model,
      name: map.name,
      link: bus.link,
      unitId,
      function: map.function,
      values: (Object.keys(roles) as Role[]).flatMap((quantity) => {
        const field = map[quantity];
        const value = values[quantity];
        return field && value !== undefined ? [{ quantity, value, unit: roles[quantity], address: field.address, type: field.encoding }] : [];
      }),
    };
  } catch (error) {
    if (error instanceof BusError) throw new CommissionError(`meter ${meterId} (${map.model}, unit ${unitId}): ${error.message}`, { cause: error });
    throw error;
  } finally {
    await buses.close();
  }
}

/** Modbus exceptions a TCP gateway answers for a unit id behind it that does not answer (10 path unavailable, 11 target failed to respond). */
const gatewayNoUnit = /^Modbus exception 1[01]:/;

export type Scan = { bus: string; link: string; units: number[]; garbled: number[] };

/**
 * Asks every unit id from `from` to `to` (default 1…247) on bus `name` for holding register 0, once each.
 * A unit that answers, even with a Modbus exception, is there; `garbled` lists ids whose answer failed its
 * CRC (a wrong baud rate or parity looks like this) or did not match the request. Takes up to (to − from + 1) × the bus timeout.
 * Throws CommissionError for a bus not in the config or a port that cannot be opened.
 */
export async function scan(config: Config, name: string, options: { from?: number; to?: number; timeoutMs?: number } = {}): Promise<Scan> {
  const spec = config.buses?.[name];
  if (!spec) throw new CommissionError(`no bus "${name}" in the config (buses: ${Object.keys(config.buses ?? {}).join(", ") || "none"})`);
  const bus = new Bus(name, { ...spec, ...(options.timeoutMs === undefined ? {} : { timeoutMs: options.timeoutMs }) });
  const found: Scan = { bus: name, link: bus.link, units: [], garbled: [] };
  try {
    for (let unitId = options.from ?? 1; unitId <= (options.to ?? 247); unitId++) {
      try {
        await bus.read(unitId, "holding", 0, 1, { tries: 1 });
        found.units.push(unitId);
      } catch (error) {
        if (!(error instanceof BusError)) throw error;
        if (error.kind === "port") throw new CommissionError(error.message, { cause: error });
        if (error.kind === "crc" || error.kind === "frame") found.garbled.push(unitId);
        if (error.kind === "exception" && !gatewayNoUnit.test((error.cause as Error).message)) found.units.push(unitId);
      }
    }
    return found;
  } finally {
    await bus.close();
  }
}
