/**
 * CFE's general-demand plans (pure): GDMTH and GDMTO (medium voltage), GDBT and PDBT (low voltage), DIST and DIT
 * (subtransmission and transmission): the three schedule zones' time-of-use bands and the billing rules, expanded
 * into the general `tou` model. Sources: ../shared/reference/cfe-gdmth.md and `structures` below.
 */
import { Config } from "../config";
import type { Band, Cfe, CfeZone, DemandCharge, Prices, Season, TimeOfUse } from "./definition";

export * as Cfe from "./cfe";

export const zones = ["central", "baja-california", "baja-california-sur"] as const satisfies readonly CfeZone[];

/** The IANA zone whose clock a schedule zone's hours are read in, unless the factory says otherwise. */
export const timeZones: Record<CfeZone, string> = {
  central: "America/Mexico_City",
  // Baja California follows the US clock changes; its schedule still uses local official time.
  "baja-california": "America/Tijuana",
  "baja-california-sur": "America/Mazatlan",
};

export type Kind = Cfe["kind"];

/**
 * What each CFE tariff charges and how (CFE's tariff pages, "Esquema tarifario vigente"):
 * - `hourly`: energy by period (base / intermedia / punta, GDMTH's bands) or one price at all hours;
 * - `demand`: "time-of-use" bills distribution on min(Dmax, Q / (24 · d · FC)) and capacity on min(D punta, …), or
 *   on Q / (24 · d · FC) alone without punta hours or a measured punta demand. GDBT is priced at one energy price
 *   but CFE's GDBT page (app.cfe.mx …/GranDemandaBT.aspx, §5.1) bills capacity on "la mínima entre … Dmaxpunta
 *   [la demanda máxima coincidente con el periodo horario de punta] … y Qmensual / (24 · d · F.C.)", the formula
 *   alone "para el caso de que no haya periodo de punta y los usuarios … cuya demanda no se mide": so GDBT's
 *   demand is read in GDMTH's periods (`demandSeasons`) while its energy has one;
 *   "no-punta" bills distribution the same and capacity on Q / (24 · d · FC) (see gdmtoCapacity); "none": PDBT,
 *   whose distribution and capacity CFE publishes per kWh, inside its energy price;
 * - `loadFactor`: FC of the Q / (24 · d · FC) formula. GDMTH 0.57 and GDMTO 0.55 are the load-factor table of CRE's
 *   Acuerdo A/158/2024, §3.1.2 (reference/cfe-gdmth.md). DIST 0.74, DIT 0.71, PDBT 0.58 and GDBT 0.49 are the
 *   figures the issue gives for the same CRE resolution tables (CFE's GDBT page points to §3.3.1 of the Anexo Único
 *   of Acuerdo A/064/2018 for its F.C.): no table with the figures could be retrieved here, so they are UNVERIFIED
 *   against the primary source; a tariff's `loadFactor` overrides them. PDBT's is not used in its bill (it has no
 *   per-kW charge);
 * - `voltage`: the supply the tariff is for, which the power-factor threshold follows when the contract says none
 *   (Config.powerFactorThresholds). DIST is above 35 kV and below 220 kV, DIT 220 kV and above.
 */
export const structures = {
  "cfe-gdmth": { code: "GDMTH", hourly: true, demand: "time-of-use", loadFactor: 0.57, voltage: "medium" },
  "cfe-gdmto": { code: "GDMTO", hourly: false, demand: "no-punta", loadFactor: 0.55, voltage: "medium" },
  "cfe-gdbt": { code: "GDBT", hourly: false, demand: "time-of-use", loadFactor: 0.49, voltage: "low" },
  "cfe-pdbt": { code: "PDBT", hourly: false, demand: "none", loadFactor: 0.58, voltage: "low" },
  "cfe-dist": { code: "DIST", hourly: true, demand: "time-of-use", loadFactor: 0.74, voltage: "high" },
  "cfe-dit": { code: "DIT", hourly: true, demand: "time-of-use", loadFactor: 0.71, voltage: "high" },
} as const satisfies Record<
  Kind,
  { code: string; hourly: boolean; demand: "time-of-use" | "no-punta" | "none"; loadFactor: number; voltage: "low" | "medium" | "high" }
>;

/** A CFE tariff by its code as CFE prints it or as Wattflow spells it: "GDBT", "gdbt" and "cfe-gdbt" are one. */
export function kindOf(name: string): Kind | undefined {
  const lower = name.trim().toLowerCase();
  const kind = lower.startsWith("cfe-") ? lower : `cfe-${lower}`;
  return kind in structures ? (kind as Kind) : undefined;
}

/**
 * GDMTO's capacity demand: "load-factor" = Q / (24 · d · 0.55) alone (no punta period to measure in; GDMTH §7's
 * no-punta rule and secondary sources), "measured" = min(maximum demand, Q / (24 · d · 0.55)) like distribution.
 */
export const gdmtoCapacity: "load-factor" | "measured" = "load-factor";

/**
 * A day's bands as CFE's tables list them, in order from midnight: each period with the hour it starts; a band runs to
 * the next one's start and the last to midnight (24), so a day's bands cannot leave a gap or overlap.
 * @example bands([B, 0], [I, 6], [P, 20], [I, 22]) → base 0–6, intermedia 6–20, punta 20–22, intermedia 22–24
 */
const bands = (...starts: [period: Band["period"], from: number][]): Band[] =>
  starts.map(([period, from], index) => ({ period, from, to: starts[index + 1]?.[1] ?? 24 }));
const B = "base";
const I = "intermedia";
const P = "punta";

/** Summer from the first Sunday of April; winter from the last Sunday of October. */
const firstSundayOfApril = { month: 4, weekday: 0, nth: 1 } as const;
const lastSundayOfOctober = { month: 10, weekday: 0, nth: -1 } as const;

const schedules: Record<CfeZone, Season[]> = {
  central: [
    {
      name: "summer",
      starts: firstSundayOfApril,
      weekday: bands([B, 0], [I, 6], [P, 20], [I, 22]),
      saturday: bands([B, 0], [I, 7]),
      sunday: bands([B, 0], [I, 19]),
    },
    {
      name: "winter",
      starts: lastSundayOfOctober,
      weekday: bands([B, 0], [I, 6], [P, 18], [I, 22]),
      saturday: bands([B, 0], [I, 8], [P, 19], [I, 21]),
      sunday: bands([B, 0], [I, 18]),
    },
  ],
  // Unconfirmed: summer from 1 May; its end taken as central's (the Saturday before the last Sunday of October).
  "baja-california": [
    {
      name: "summer",
      starts: { month: 5, day: 1 },
      weekday: bands([I, 0], [P, 14], [I, 18]),
      saturday: bands([I, 0]),
      sunday: bands([I, 0]),
    },
    {
      name: "winter",
      starts: lastSundayOfOctober,
      weekday: bands([B, 0], [I, 17], [B, 22]),
      saturday: bands([B, 0], [I, 18], [B, 21]),
      sunday: bands([B, 0]),
    },
  ],
  // Unconfirmed: central's season dates.
  "baja-california-sur": [
    {
      name: "summer",
      starts: firstSundayOfApril,
      weekday: bands([I, 0], [P, 12], [I, 22]),
      saturday: bands([I, 0], [P, 19], [I, 22]),
      sunday: bands([I, 0]),
    },
    {
      name: "winter",
      starts: lastSundayOfOctober,
      weekday: bands([B, 0], [I, 18], [B, 22]),
      saturday: bands([B, 0], [I, 18], [B, 21]),
      sunday: bands([B, 0], [I, 19], [B, 21]),
    },
  ],
};

/** The one energy period of the tariffs priced alike at all hours (GDMTO, GDBT, PDBT). */
export const gdmtoPeriod = "energia";
const allDay = bands([gdmtoPeriod, 0]);
const gdmtoSeasons: Season[] = [{ name: "all-year", starts: { month: 1, day: 1 }, weekday: allDay, saturday: allDay, sunday: allDay }];

/** GDMTH's bands with one energy period at all hours and demand still read in base / intermedia / punta (GDBT). */
const demandSeasons = (zone: CfeZone): Season[] =>
  schedules[zone].map((season) => {
    const demandOnly = (list: Band[]) => list.map((band) => ({ ...band, period: gdmtoPeriod, demand: band.period }));
    return { ...season, weekday: demandOnly(season.weekday), saturday: demandOnly(season.saturday), sunday: demandOnly(season.sunday) };
  });

/** The seasons and bands of a CFE plan in a schedule zone (GDMTO, GDBT, PDBT: one energy period at all hours). */
export function seasons(kind: Kind, zone: CfeZone): Season[] {
  const structure = structures[kind];
  if (structure.hourly) return schedules[zone];
  return structure.demand === "time-of-use" ? demandSeasons(zone) : gdmtoSeasons;
}

/** The CFE plan as a general time-of-use tariff. */
export function toTimeOfUse(definition: Cfe): TimeOfUse {
  const structure = structures[definition.kind];
  const loadFactor = definition.loadFactor ?? structure.loadFactor;
  const prices = definition.prices.map((row): Prices => {
    const roundKw = Config.cfeBilling.measuredDemandRounding;
    const demand: DemandCharge[] = [];
    if ("distribution" in row && row.distribution !== undefined)
      demand.push({ code: "distribution", loadFactor, roundKw, tiers: [{ price: row.distribution }] });
    if ("capacity" in row)
      demand.push(
        structure.demand === "time-of-use"
          ? // GDMTH §7: capacity on min(punta demand, Q / (24 · d · FC)); "para el caso de que no haya periodo de punta", Q / (24 · d · FC) alone.
            { code: "capacity", periods: [P], withoutPeriods: "load-factor", loadFactor, roundKw, tiers: [{ price: row.capacity }] }
          : // GDMTO has no punta period, so capacity is Q / (24 · d · FC) alone: GDMTH's own no-punta clause, and
            // what secondary implementations bill. CFE's GDMTO page itself could not be retrieved here: unconfirmed, see gdmtoCapacity.
            { code: "capacity", loadFactorOnly: gdmtoCapacity === "load-factor", loadFactor, roundKw, tiers: [{ price: row.capacity }] },
      );
    const energy: Prices["energy"] =
      typeof row.energy === "string"
        ? { [gdmtoPeriod]: [{ price: row.energy }] }
        : { base: [{ price: row.energy.base }], intermedia: [{ price: row.energy.intermedia }], punta: [{ price: row.energy.punta }] };
    return { month: row.month, division: row.division, fixed: [{ code: "fixed", amount: row.fixed, per: "month" }], energy, demand };
  });
  return {
    kind: "tou",
    name: `CFE ${structure.code} ${definition.zone}`,
    currency: "MXN",
    holidays: "mx-lft74",
    seasons: seasons(definition.kind, definition.zone),
    division: definition.division,
    prices,
    demandWindow: { minutes: 15, rolling: definition.rollingDemand ?? false },
    powerFactor: {
      threshold: definition.powerFactorThreshold ?? 90,
      surchargeFactor: 0.6,
      bonusFactor: 0.25,
      maxSurchargePercent: 120,
      maxBonusPercent: 2.5,
      percentDecimals: 1,
    },
    lowVoltageSurchargePercent: definition.lowVoltageMetering ? "2" : undefined,
    taxPercent: "16",
    otherCharges: definition.streetLighting && !("none" in definition.streetLighting) ? [{ code: "dap", ...definition.streetLighting }] : [],
  };
}
