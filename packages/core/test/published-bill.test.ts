/**
 * A published GDMTH bill reproduced line by line through the bill request (`wattflow bill --input`'s door:
 * BillRequest.Request → toInput → Bill.compute), its expected figures the ones printed in the source.
 *
 * Source: "consumo de electricidad", https://es.scribd.com/document/493224929/consumo-de-electricidad — a GDMTH
 * service's "desglose de facturación" for the December 2018 bill (meter Y405M4, multiplier 350, contracted 184 kW),
 * copied from the bill into a sheet with CFE's unit prices per component:
 *   Punta 1,533 kWh × 1.8665 = 2,861.34; Interm. 41,881 kWh × 1.6539 = 69,266.99; Base 21,721 kWh × 0.9260 = 20,113.65
 *   (92,241.98; each period's price is Generación-B/I/P 0.7530 / 1.4809 / 1.6935 plus Transmisión 0.1585,
 *   CENACE 0.0091 and SCnMEM 0.0054 $/kWh, whose lines 16,355.91 + 62,021.57 + 2,596.14 + 10,323.90 + 592.73
 *   + 351.73 add up to the same 92,241.98); Cargo fijo (Suministro) 428.56;
 *   kW máximos: punta 32, intermedia 196, base 151; "kW calculado por kWh y FC" 154 (744 h, FC 0.57);
 *   Distribución = min(196, 154) = 154 kW × 139.09 = 21,419.86; Capacidad = min(32, 154) = 32 kW × 341.69 = 10,934.08;
 *   total before power factor and tax 125,024.48; kVArh 12,019, factor de potencia 98.34 %.
 * The sheet stops there: it prints no power-factor bonus, IVA or DAP line, so those are checked against the rule
 * alone (the source gives nothing to compare them with). Its division is not named; its prices go in the request.
 */
import { describe, expect, test } from "vitest";
import { Bill } from "../src/billing";
import { BillRequest } from "../src/billing/request";

const december2018 = {
  tariff: "cfe-gdmth",
  zone: "central",
  period: { start: "2018-12-01", end: "2019-01-01" },
  prices: { fixed: "428.56", energy: { base: "0.9260", intermedia: "1.6539", punta: "1.8665" }, distribution: "139.09", capacity: "341.69" },
  // The bill's own readings: kWh per period (already × 350), kVArh, and the month's and punta's maximum kW.
  usage: { kwh: { base: 21721, intermedia: 41881, punta: 1533 }, kvarh: 12019, demandKw: { max: 196, punta: 32 } },
  streetLighting: { none: true },
};

function billOf(request: unknown) {
  const parsed = BillRequest.Request.parse(request);
  return Bill.compute(BillRequest.toInput(parsed));
}

describe("a published GDMTH bill (December 2018, Scribd 493224929) through the bill request", () => {
  test("every printed line comes out to the cent: energy per period, fixed, distribution and capacity", () => {
    // Act
    const bill = billOf(december2018);

    // Assess: the printed amounts; each line's difference from the bill is 0.00 MXN.
    const line = (code: string) => bill.lines.find((entry) => entry.code === code);
    expect(
      [line("fixed"), line("energy-base"), line("energy-intermedia"), line("energy-punta"), line("distribution"), line("capacity")].map((entry) => [
        entry?.code,
        entry?.quantity,
        entry?.amount,
      ]),
    ).toEqual([
      ["fixed", "1", "428.56"],
      ["energy-base", "21721", "20113.65"],
      ["energy-intermedia", "41881", "69266.99"],
      ["energy-punta", "1533", "2861.34"],
      // Q / (24 · d · FC) = 65,135 / (24 · 31 · 0.57) = 153.59 → 154 kW (the sheet's "kW calculado por kWh y FC").
      ["distribution", "154", "21419.86"],
      ["capacity", "32", "10934.08"],
    ]);
    // The sheet's total of the supply charges, before power factor and tax.
    expect(bill.subtotal).toBe("125024.48");
    // FP = 65,135 / √(65,135² + 12,019²) = 98.34 %, as printed.
    expect(bill.powerFactor).toBe("98.34");
  });

  test("the lines the sheet does not print follow the rule: 2.1 % bonus at the 90 % threshold of 2018, IVA 16 %", () => {
    // Act
    const bill = billOf(december2018);

    // Assess. By hand (CFE's GDMTH page; 90 % before the January 2024 bills): bonus 1/4 × (1 − 90/98.34) × 100 = 2.12
    // → 2.1 % (one decimal) × 125,024.48 = 2,625.51 off; 122,398.97; IVA 19,583.8352 → 19,583.84; total 141,982.81.
    expect(bill.pfAdjustment).toBe("-2625.51");
    expect(bill.iva).toBe("19583.84");
    expect(bill.total).toBe("141982.81");
  });
});
