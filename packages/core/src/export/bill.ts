/**
 * A stored bill as a document a finance team files: the factory's supply (name, RPU, division, tariff), the billing
 * period in the factory's dates, kWh per period, demand, power factor, each line with CFE's Spanish name, the
 * reconciliation against the utility's imported bill, and what was estimated. `sheet` gathers it (org-scoped),
 * `pdf` lays it out with pdfkit (pure JS, maintained, streams, measures text for right-aligned money; its
 * standard Helvetica covers Spanish accents without embedding a font).
 */

import Decimal from "decimal.js";
import { and, asc, eq } from "drizzle-orm";
import PDFDocument from "pdfkit";
import { lineName } from "../billing/lines";
import { BillingPeriod } from "../billing/period";
import { Close } from "../close";
import { billLineTable, billTable } from "../close/bill.sql";
import { Database } from "../database";
import { Factory } from "../factory";
import { Organization } from "../organization";
import { VisibleError } from "../util/error";
import * as Format from "./format";

/** One bill line as the document prints it: amounts MXN (decimal strings), quantity in `unit`. */
export type SheetLine = { code: string; name: string; quantity: string; unit: string; unitPrice: string; amount: string };

/** The mark a demo organization's bill carries on every page, in the console's words (es-MX, then en). */
export const demoMark = "Datos de demostración, precios de demostración / demo data, demo prices";

/** Everything the bill document shows; amounts are decimal strings in `currency`, energy kWh, demand kW. */
export type Sheet = {
  /** The organization is a demo (Organization `demo`): generated readings and demo prices, marked on every page. */
  demo: boolean;
  factory: {
    id: string;
    name: string;
    rpu: string | null;
    division: string | null;
    tariff: string;
    zone: string | null;
    timeZone: string;
    contractedDemandKw: number | null;
  };
  bill: {
    id: string;
    month: string;
    source: "wattflow" | "utility";
    status: "closed" | "reopened" | "imported";
    /** Local dates [start, end) (CFE prints the end reading's date as the period's last). */
    period: { start: string; end: string } | null;
    currency: string;
    subtotal: string;
    iva: string;
    total: string;
    closedAt: Date | null;
    reopenedAt: Date | null;
    /** Percent, 2 decimals. */
    powerFactor: string | null;
    peakDemandKw: string | null;
    /** Priced with the latest published prices because the month's were not published (null: not recorded). */
    pricesEstimated: boolean | null;
    /** Readings stored, and the share of the period they cover (0–1, Close.coverageOf; null: utility bills, older bills). */
    readings: number | null;
    coverage: string | null;
  };
  lines: SheetLine[];
  /** kWh per energy line (period, or period tier), and their sum. */
  energy: { name: string; kwh: string }[];
  totalKwh: string;
  /** kWh of the energy that was estimated (gap readings spread over their slots), and its share of `totalKwh` (0–1, 4 decimals). */
  estimatedKwh: string | null;
  estimatedShare: string | null;
  /** The demand (kW) the bill charges: one entry per kW line. */
  billedDemand: { name: string; kw: string }[];
  /** Ours against the utility's bill of the same month (a computed bill with an imported utility bill only). */
  reconciliation: {
    utilityTotal: string;
    total: string;
    difference: string;
    lines: { code: string; name: string; amount: string | null; utilityAmount: string | null; difference: string }[];
  } | null;
};

/** "cfe-gdmth" → "GDMTH": the tariff as CFE names it. */
function tariffName(code: string): string {
  return code.startsWith("cfe-") ? code.slice(4).toUpperCase() : code;
}

/**
 * The document of bill `billId` of factory `factoryId`, in `organizationId` only.
 * @throws VisibleError `factory.not_found` (404) for a factory of another organization or none; `bill.not_found` (404)
 * for a bill that is not this factory's.
 */
export async function sheet(organizationId: string, factoryId: string, billId: string): Promise<Sheet> {
  const [factory, organization] = await Promise.all([Factory.get(organizationId, factoryId), Organization.get(organizationId)]);
  if (!factory) throw new VisibleError("not_found", "factory.not_found", `factory ${factoryId} not found`);
  const db = Database.use();
  const [bill] = await db
    .select()
    .from(billTable)
    .where(and(eq(billTable.id, billId), eq(billTable.factoryId, factoryId)));
  if (!bill) throw new VisibleError("not_found", "bill.not_found", `bill ${billId} of factory ${factoryId} not found`);
  const stored = await db.select().from(billLineTable).where(eq(billLineTable.billId, bill.id)).orderBy(asc(billLineTable.position));
  const lines = stored.map((line) => ({
    code: line.code,
    name: lineName(line.code, line.amount).es,
    quantity: line.quantity,
    unit: line.unit,
    unitPrice: line.unitPrice,
    amount: line.amount,
  }));
  const energyLines = lines.filter((line) => line.unit === "kWh" && (line.code === "energy" || line.code.startsWith("energy-")));
  const totalKwh = energyLines.reduce((sum, line) => sum.plus(line.quantity), new Decimal(0));
  const estimatedKwh = bill.estimatedKwh === null ? null : new Decimal(bill.estimatedKwh);

  let reconciliation: Sheet["reconciliation"] = null;
  if (bill.source === "wattflow") {
    const theirs = await Close.get(factoryId, bill.month, "utility");
    if (theirs) {
      const found = Close.compare({ bill, lines: stored }, theirs);
      reconciliation = {
        utilityTotal: found.utilityTotal,
        total: found.total,
        difference: found.difference,
        lines: found.lines.map((line) => ({
          code: line.code,
          name: lineName(line.code, line.amount ?? line.utilityAmount ?? undefined).es,
          amount: line.amount,
          utilityAmount: line.utilityAmount,
          difference: line.difference,
        })),
      };
    }
  }
  return {
    demo: organization?.demo ?? false,
    factory: {
      id: factory.id,
      name: factory.name,
      rpu: factory.rpu,
      division: factory.tariffDivision,
      tariff: tariffName(factory.tariffCode),
      zone: factory.tariffZone,
      timeZone: factory.timeZone,
      contractedDemandKw: factory.contractedDemandKw,
    },
    bill: {
      id: bill.id,
      month: bill.month,
      source: bill.source,
      status: bill.status,
      period: bill.periodStart && bill.periodEnd ? { start: bill.periodStart, end: bill.periodEnd } : null,
      currency: bill.currency,
      subtotal: bill.subtotal,
      iva: bill.iva,
      total: bill.total,
      closedAt: bill.closedAt,
      reopenedAt: bill.reopenedAt,
      powerFactor: bill.powerFactor,
      peakDemandKw: bill.peakDemandKw,
      pricesEstimated: bill.pricesEstimated,
      readings: bill.readings,
      coverage: bill.coverage,
    },
    lines,
    energy: energyLines.map((line) => ({ name: line.name, kwh: line.quantity })),
    totalKwh: totalKwh.toFixed(),
    estimatedKwh: estimatedKwh?.toFixed() ?? null,
    estimatedShare: estimatedKwh === null ? null : totalKwh.gt(0) ? estimatedKwh.div(totalKwh).toFixed(4) : "0",
    billedDemand: lines.filter((line) => line.unit === "kW").map((line) => ({ name: line.name, kw: line.quantity })),
    reconciliation,
  };
}

/** How a line's quantity and unit price read: kWh and kW with their unit, a percentage line as its base and rate. */
function quantityAndPrice(line: SheetLine, currency: string): [string, string] {
  switch (line.unit) {
    case "kWh":
    case "kW":
      return [
        `${Format.quantity(line.quantity)} ${line.unit}`,
        `${Format.money(line.unitPrice, currency, Math.max(2, decimalsOf(line.unitPrice)))}/${line.unit}`,
      ];
    case "month":
      return [`${Format.number(line.quantity)} mes`, Format.money(line.unitPrice, currency)];
    case "day":
      return [`${Format.number(line.quantity)} días`, Format.money(line.unitPrice, currency, Math.max(2, decimalsOf(line.unitPrice)))];
    default:
      // A line that states an amount (subtotal, total, minimum) has nothing to multiply.
      if (line.unit !== currency || ["subtotal", "total"].includes(line.code)) return ["", ""];
      // A percentage of an amount (power factor, IVA, low-voltage surcharge, DAP): the base, and the rate.
      return [`base ${Format.money(line.quantity, currency)}`, `${Format.number(new Decimal(line.unitPrice).times(100).toFixed())} %`];
  }
}

function decimalsOf(value: string): number {
  return value.split(".")[1]?.length ?? 0;
}

const page = { size: "LETTER" as const, margin: 40, width: 612, height: 792 };
const body = page.width - 2 * page.margin;

type Column = { title: string; width: number; align: "left" | "right" };

/**
 * The bill as a PDF (US Letter, "carta", the size Mexican offices file): header with the factory and period, the
 * estimated-data notes, consumption, demand and power factor, the lines, and the reconciliation when there is one.
 * `now` is when it was generated (printed on the footer in the factory's zone).
 */
export async function pdf(sheet: Sheet, now = new Date()): Promise<Buffer> {
  const doc = new PDFDocument({
    size: page.size,
    margin: page.margin,
    // Kept until the end so each page's footer can say "página n de m".
    bufferPages: true,
    info: {
      Title: `Recibo ${sheet.bill.month} ${sheet.factory.name}`,
      Author: "Wattflow",
      Subject: `Recibo de energía eléctrica, ${Format.monthName(sheet.bill.month)}`,
      CreationDate: now,
    },
  });
  const chunks: Buffer[] = [];
  doc.on("data", (chunk: Buffer) => chunks.push(chunk));
  const done = new Promise<Buffer>((resolve, reject) => {
    doc.on("end", () => resolve(Buffer.concat(chunks)));
    doc.on("error", reject);
  });
  const { factory, bill } = sheet;
  const currency = bill.currency;
  const zone = factory.timeZone;
  let y = page.margin;

  const ensure = (height: number) => {
    if (y + height <= page.height - page.margin - 8) return;
    doc.addPage();
    y = page.margin;
  };
  const heading = (text: string) => {
    ensure(30);
    y += 6;
    doc.font("Helvetica-Bold").fontSize(11).fillColor("#000").text(text, page.margin, y, { width: body });
    y += 15;
  };
  const pair = (label: string, value: string) => {
    ensure(14);
    doc.font("Helvetica").fontSize(9).fillColor("#444").text(label, page.margin, y, { width: 170 });
    doc
      .font("Helvetica")
      .fontSize(9)
      .fillColor("#000")
      .text(value, page.margin + 170, y, { width: body - 170 });
    y += Math.max(12, doc.heightOfString(value, { width: body - 170 }) + 1.5);
  };
  const table = (columns: Column[], rows: { cells: string[]; bold?: boolean }[]) => {
    const header = () => {
      let x = page.margin;
      doc.font("Helvetica-Bold").fontSize(8.5).fillColor("#000");
      for (const column of columns) {
        doc.text(column.title, x + 2, y, { width: column.width - 4, align: column.align });
        x += column.width;
      }
      y += 13;
      doc
        .moveTo(page.margin, y - 2)
        .lineTo(page.margin + body, y - 2)
        .lineWidth(0.5)
        .strokeColor("#888")
        .stroke();
    };
    ensure(30);
    header();
    for (const row of rows) {
      doc.font(row.bold ? "Helvetica-Bold" : "Helvetica").fontSize(9);
      const height = Math.max(12, ...row.cells.map((cell, index) => doc.heightOfString(cell, { width: (columns[index]?.width ?? 0) - 4 }) + 2));
      if (y + height > page.height - page.margin - 8) {
        doc.addPage();
        y = page.margin;
        header();
        doc.font(row.bold ? "Helvetica-Bold" : "Helvetica").fontSize(9);
      }
      let x = page.margin;
      row.cells.forEach((cell, index) => {
        const column = columns[index] as Column;
        doc.fillColor("#000").text(cell, x + 2, y, { width: column.width - 4, align: column.align });
        x += column.width;
      });
      y += height;
    }
  };
  const notice = (text: string) => {
    ensure(30);
    const height =
      doc
        .font("Helvetica-Bold")
        .fontSize(9)
        .heightOfString(text, { width: body - 16 }) + 10;
    doc.rect(page.margin, y, body, height).fillColor("#fff4d6").fill();
    doc.fillColor("#7a4b00").text(text, page.margin + 8, y + 5, { width: body - 16 });
    y += height + 6;
  };

  const title = bill.source === "wattflow" ? "Recibo de energía eléctrica (cálculo Wattflow)" : "Recibo de CFE (importado para conciliación)";
  doc.font("Helvetica-Bold").fontSize(15).fillColor("#000").text(title, page.margin, y, { width: body });
  y += 22;
  doc
    .font("Helvetica")
    .fontSize(8.5)
    .fillColor("#444")
    .text(
      bill.source === "wattflow"
        ? "Calculado con las lecturas de los medidores de la planta y la tarifa vigente. No es un comprobante fiscal de CFE."
        : "Importes del recibo de CFE tal como se importaron.",
      page.margin,
      y,
      { width: body },
    );
  y += 18;

  pair("Planta", factory.name);
  pair("RPU", factory.rpu ?? "sin registrar");
  pair("División", factory.division ?? "sin división");
  pair("Tarifa", factory.zone ? `${factory.tariff} (región ${factory.zone})` : factory.tariff);
  pair("Mes de facturación", Format.monthName(bill.month));
  pair(
    "Periodo de facturación",
    // The last day, as the console shows it (the stored end is the next period's first day): "01/10/2026 al 31/10/2026 (31 días)".
    bill.period
      ? `${Format.date(bill.period.start)} al ${Format.date(BillingPeriod.lastDay(bill.period))} (${BillingPeriod.days(bill.period)} días)`
      : "sin periodo registrado (cerrado antes de que se guardaran periodos)",
  );
  const statusText =
    bill.status === "imported"
      ? "Importado"
      : bill.status === "reopened"
        ? `Reabierto${bill.reopenedAt ? ` el ${Format.dateTime(bill.reopenedAt.getTime(), zone)}` : ""}: llegaron lecturas después del cierre`
        : `Cerrado${bill.closedAt ? ` el ${Format.dateTime(bill.closedAt.getTime(), zone)}` : ""}`;
  pair("Estado", statusText);
  pair("Zona horaria", `${zone} (fechas y horas de este documento)`);
  y += 4;

  if (bill.pricesEstimated)
    notice(
      "PRECIOS ESTIMADOS: CFE aún no publicaba las tarifas de este mes; el recibo se calculó con las últimas publicadas y se recalculará cuando se importen.",
    );
  if (bill.coverage !== null && Close.coverageLow(bill.coverage))
    notice(
      `LECTURAS INCOMPLETAS: las lecturas cubren el ${Format.number(new Decimal(bill.coverage).times(100).toFixed(), 1)} % del periodo (${Format.quantity(String(bill.readings ?? 0))} lecturas de 5 minutos). CFE factura el periodo completo: este recibo no incluye la energía ni la demanda de lo que falta.`,
    );
  if (sheet.estimatedShare !== null && new Decimal(sheet.estimatedShare).gt(0))
    notice(
      `Datos estimados: ${Format.number(new Decimal(sheet.estimatedShare).times(100).toFixed(), 2)} % de la energía (${Format.quantity(sheet.estimatedKwh ?? "0")} kWh) se estimó repartiendo lecturas de huecos de comunicación; el resto se midió.`,
    );

  heading("Consumo (kWh por periodo)");
  table(
    [
      { title: "Periodo", width: 300, align: "left" },
      { title: "kWh", width: body - 300, align: "right" },
    ],
    [...sheet.energy.map((line) => ({ cells: [line.name, Format.quantity(line.kwh)] })), { cells: ["Total", Format.quantity(sheet.totalKwh)], bold: true }],
  );

  heading("Demanda y factor de potencia");
  if (factory.contractedDemandKw !== null) pair("Demanda contratada", `${Format.quantity(factory.contractedDemandKw)} kW`);
  if (bill.peakDemandKw !== null) pair("Demanda máxima medida", `${Format.quantity(bill.peakDemandKw)} kW`);
  for (const demand of sheet.billedDemand) pair(`Demanda facturable: ${demand.name}`, `${Format.quantity(demand.kw)} kW`);
  pair("Factor de potencia", bill.powerFactor === null ? "sin energía reactiva medida" : `${Format.number(bill.powerFactor, 2)} %`);

  heading("Conceptos");
  table(
    [
      { title: "Concepto", width: 200, align: "left" },
      { title: "Cantidad", width: 112, align: "right" },
      { title: "Precio unitario", width: 100, align: "right" },
      { title: "Importe", width: body - 412, align: "right" },
    ],
    [
      ...sheet.lines.map((line) => {
        const [quantity, price] = quantityAndPrice(line, currency);
        return { cells: [line.name, quantity, price, Format.money(line.amount, currency)], bold: line.code === "total" };
      }),
      // A flat tariff's bill is its energy line alone: its total is still printed.
      ...(sheet.lines.some((line) => line.code === "total") ? [] : [{ cells: ["Total", "", "", Format.money(bill.total, currency)], bold: true }]),
    ],
  );

  if (sheet.reconciliation) {
    const reconciliation = sheet.reconciliation;
    heading("Conciliación con el recibo de CFE");
    table(
      [
        { title: "Concepto", width: 170, align: "left" },
        { title: "Calculado", width: 116, align: "right" },
        { title: "CFE", width: 116, align: "right" },
        { title: "Diferencia", width: body - 402, align: "right" },
      ],
      reconciliation.lines.map((line) => ({
        cells: [
          line.name,
          line.amount === null ? "—" : Format.money(line.amount, currency),
          line.utilityAmount === null ? "—" : Format.money(line.utilityAmount, currency),
          Format.money(line.difference, currency),
        ],
        bold: line.code === "total",
      })),
    );
    y += 4;
    pair(
      "Resultado",
      new Decimal(reconciliation.difference).isZero()
        ? "El total calculado coincide con el de CFE."
        : `Calculado ${Format.money(reconciliation.total, currency)} contra CFE ${Format.money(reconciliation.utilityTotal, currency)}: diferencia ${Format.money(reconciliation.difference, currency)} (calculado menos CFE).`,
    );
  } else if (bill.source === "wattflow") {
    heading("Conciliación con el recibo de CFE");
    pair("Recibo de CFE", "no se ha importado el recibo de CFE de este mes");
  }

  const range = doc.bufferedPageRange();
  for (let index = range.start; index < range.start + range.count; index++) {
    doc.switchToPage(index);
    // The footer sits in the bottom margin: without this pdfkit would start a new page for it.
    const bottom = doc.page.margins.bottom;
    doc.page.margins.bottom = 0;
    // A demo's bill says so on every page, in the top margin, so no page of it passes for a real bill.
    if (sheet.demo)
      doc
        .font("Helvetica-Bold")
        .fontSize(9)
        .fillColor("#b42318")
        .text(demoMark.toUpperCase(), page.margin, page.margin - 24, { width: body, align: "center", lineBreak: false });
    doc
      .font("Helvetica")
      .fontSize(7.5)
      .fillColor("#666")
      .text(
        `Wattflow · ${factory.name} · ${bill.month} · generado el ${Format.dateTime(now.getTime(), zone)} (${zone}) · página ${index - range.start + 1} de ${range.count}`,
        page.margin,
        page.height - page.margin + 14,
        { width: body, align: "center", lineBreak: false },
      );
    doc.page.margins.bottom = bottom;
  }
  doc.end();
  return done;
}

/** A file name for the bill: `recibo-<month>-<factory id>.pdf` (ASCII, no spaces). */
export function fileName(sheet: Sheet): string {
  return `recibo-${sheet.bill.month}-${sheet.factory.id}${sheet.bill.source === "utility" ? "-cfe" : ""}.pdf`;
}
