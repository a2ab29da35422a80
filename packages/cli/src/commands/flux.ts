/**
 * `wattflow flux <question>`: prints the Flux query the library builds for a question, ready for the
 * InfluxDB UI, `influx query` or a Grafana panel. Pure: it needs no stack.
 * @example wattflow flux energy --bucket readings --meter mtr_1 --from 2026-03-01T00:00:00Z --to 2026-03-02T00:00:00Z --every 1h
 */
import { mkdirSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { Flux } from "@wattflow/core/flux";
import { Grafana } from "@wattflow/core/grafana";
import { writeFileAtomicSync } from "@wattflow/core/util/files";
import type { Command } from "commander";
import { CliError } from "../client";

type Common = { bucket: string; from: string; to: string; meter: string[]; factory?: string; tz?: string };

const collect = (value: string, previous: string[]) => [...previous, value];

function scope(options: Common): Flux.Scope {
  if (options.meter.length === 0 && options.factory === undefined) throw new CliError("name the readings: --meter <id> (repeatable) or --factory <id>", 2);
  return {
    bucket: options.bucket,
    from: options.from,
    to: options.to,
    factoryId: options.factory,
    meterIds: options.meter.length > 0 ? options.meter : undefined,
  };
}

/** Prints the query, or the library's reason for refusing an input (exit 2). */
function print(build: () => string): void {
  let query: string;
  try {
    query = build();
  } catch (error) {
    if (error instanceof Flux.FluxError) throw new CliError(error.message, 2);
    throw error;
  }
  process.stdout.write(query);
}

function question(parent: Command, name: string, description: string): Command {
  return parent
    .command(name)
    .description(description)
    .requiredOption("--bucket <name>", "InfluxDB bucket")
    .requiredOption("--from <iso>", "range start, ISO 8601 instant (inclusive)")
    .requiredOption("--to <iso>", "range end, ISO 8601 instant (exclusive)")
    .option("--meter <id>", "a meter (repeatable)", collect, [])
    .option("--factory <id>", "every meter of a factory");
}

type Windowed = Common & { every: string };

/** A question asked per window: `--every` (required; `examples` of it for the help) and `--tz` for calendar windows. */
function windowed(parent: Command, name: string, description: string, examples: string): Command {
  return question(parent, name, description)
    .requiredOption("--every <duration>", `window, e.g. ${examples}`)
    .option("--tz <zone>", "IANA zone for calendar windows (1d, 1mo)");
}

/** The scope and window of a windowed question, as the Flux builders take them. */
const windows = (options: Windowed) => ({ ...scope(options), every: options.every, timeZone: options.tz });

export function register(program: Command): void {
  const flux = program.command("flux").description("print the Flux query for a common question (no stack needed)");
  windowed(flux, "energy", "kWh per window per meter", "15m, 1h, 1d").action((options: Windowed) => print(() => Flux.energy(windows(options))));
  question(flux, "cost-by-period", "cost per time-of-use period per local day")
    .requiredOption("--tz <zone>", "the factory's IANA zone")
    .option("--every <duration>", "window", "1d")
    .action((options: Common & { every: string; tz: string }) =>
      print(() => Flux.costByPeriod({ ...scope(options), timeZone: options.tz, every: options.every })),
    );
  question(flux, "demand", "15-minute demand (kW) of the meters together").action((options: Common) => print(() => Flux.demand15m(scope(options))));
  question(flux, "peaks", "the highest 15-minute demand windows")
    .option("--top <n>", "how many", "5")
    .action((options: Common & { top: string }) => print(() => Flux.demandPeaks({ ...scope(options), top: Number(options.top) })));
  windowed(flux, "power-factor", "energy-weighted power factor per window, from the meters that measure kVArh", "1h").action((options: Windowed) =>
    print(() => Flux.powerFactor(windows(options))),
  );
  windowed(flux, "counter-energy", "kWh per window from a cumulative counter field, a meter reset counted from zero", "1h, 1d")
    .requiredOption("--field <name>", "the counter's field, e.g. import_kwh")
    .action((options: Windowed & { field: string }) => print(() => Flux.counterEnergy({ ...windows(options), field: options.field })));
  flux
    .command("grafana")
    .description("write the Grafana provisioning files (datasource, dashboards) generated from the library")
    .option("--out <dir>", "the grafana/ folder to write", "grafana")
    .action((options: { out: string }) => {
      for (const file of Grafana.files()) {
        const path = join(resolve(options.out), file.path);
        mkdirSync(dirname(path), { recursive: true });
        writeFileAtomicSync(path, file.content);
        console.log(`wrote ${path}`);
      }
    });
}
