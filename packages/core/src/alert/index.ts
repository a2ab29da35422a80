/**
 * Alerts: rules an energy manager sets per factory, evaluated on a schedule (or after a batch) over
 * the statement's figures of the current billing period (demand peak, power factor), the time-series port (punta,
 * daily cost) and the gateways' heartbeats; each occurrence is stored once (unique per rule
 * and dedup key) and sent to the rule's channels. A delivery that fails is retried by the next
 * evaluation, for a day.
 */
import { and, desc, eq, gte, inArray, isNotNull, isNull } from "drizzle-orm";
import { z } from "zod";
import type { Auth } from "../auth";
import { Bill, BillingPeriod } from "../billing";
import { Database } from "../database";
import { deviceTable } from "../device/device.sql";
import { Factory } from "../factory";
import { factoryTable } from "../factory/factory.sql";
import { Statement } from "../statement";
import { TariffStore } from "../tariff/store";
import { TimeSeries } from "../timeseries";
import { VisibleError } from "../util/error";
import { fn } from "../util/fn";
import { processState } from "../util/global";
import { createId } from "../util/id";
import { WebhookAddress } from "./address";
import { alertRuleTable, alertTable, type Channel } from "./alert.sql";
import { ChannelNotifier, channelName, type Notice, type Notifier } from "./notify";
import { AlertRules } from "./rules";

export * as Alert from "./index";

/** Undelivered alerts are retried this long, then left (listed with their delivery error). */
const redeliverMs = 86_400_000;

const ChannelSchema = z.discriminatedUnion("type", [
  z.object({ type: z.literal("sns"), topicArn: z.string().regex(/^arn:aws[a-z-]*:sns:[a-z0-9-]+:\d{12}:[\w-]+$/, "topicArn must be an SNS topic ARN") }),
  z.object({ type: z.literal("email"), to: z.email("to must be an e-mail address") }),
  z.object({
    type: z.literal("webhook"),
    url: z.url({ protocol: /^https?$/, error: "url must be an http(s) URL" }).check((context) => {
      // z.url has already said what is wrong with a value that does not parse or is not http(s) (file:///etc/passwd
      // has no host: a second error calling "" a single-label name would only confuse).
      if (!URL.canParse(context.value) || !/^https?:$/.test(new URL(context.value).protocol)) return;
      const refused = WebhookAddress.urlRefusal(context.value);
      if (refused) context.issues.push({ code: "custom", input: context.value, message: `url must reach a public address: ${refused}` });
    }),
  }),
]);

export const RuleInput = z
  .object({
    factoryId: z.string({ error: "factoryId is required" }),
    kind: z.enum(AlertRules.kinds, { error: `kind must be one of ${AlertRules.kinds.join(", ")}` }),
    /** Absent: the kind's default (AlertRules.defaultThresholds); the power factor's follows the factory's CFE threshold. */
    threshold: z.number({ error: "threshold is a number" }).positive("threshold must be positive").optional(),
    channels: z.array(ChannelSchema).max(10).default([]),
    enabled: z.boolean().default(true),
  })
  .superRefine((rule, context) => {
    // A power factor is at most 1 and a demand rule's threshold a share of a demand: 90 meant as a percentage would
    // alert every day (or never), so it is refused with the fraction it probably meant.
    const most = rule.kind === "power_factor_low" ? 1 : rule.kind === "demand_near_peak" || rule.kind === "demand_near_contracted_punta" ? 2 : undefined;
    if (rule.threshold !== undefined && most !== undefined && rule.threshold > most)
      context.issues.push({
        code: "custom",
        path: ["threshold"],
        input: rule.threshold,
        message: `threshold of ${rule.kind} is a fraction (0.9 = 90 %), at most ${most}; got ${rule.threshold}${rule.threshold <= 100 ? ` (${rule.threshold / 100}?)` : ""}`,
      });
  });

/** A stored rule; a null `threshold` is its kind's default, for the power factor the factory's CFE threshold at the time. */
export const Rule = z.object({
  id: z.string(),
  factoryId: z.string(),
  kind: z.enum(AlertRules.kinds),
  threshold: z.number().nullable(),
  channels: z.array(
    z.discriminatedUnion("type", [
      z.object({ type: z.literal("sns"), topicArn: z.string() }),
      z.object({ type: z.literal("email"), to: z.string() }),
      z.object({ type: z.literal("webhook"), url: z.string() }),
    ]),
  ),
  enabled: z.boolean(),
  createdAt: z.string(),
});
export type Rule = z.infer<typeof Rule>;
true satisfies Rule["channels"][number] extends Channel ? (Channel extends Rule["channels"][number] ? true : false) : false;

/** Where an alert stands: raised and nobody on it yet, acknowledged (someone is on it), or resolved. */
export const statuses = ["open", "acknowledged", "resolved"] as const;
export type Status = (typeof statuses)[number];

/** Who did something to an alert and when (ISO instant, UTC); `by` is a user or API token id, `name` theirs then. */
export const Mark = z.object({ at: z.string(), by: z.string(), name: z.string().nullable() });
export type Mark = z.infer<typeof Mark>;

/** A stored alert: what channels receive (the Notice), plus its rule, delivery state and who acknowledged or resolved it. */
export const Item = z.object({
  id: z.string(),
  factoryId: z.string(),
  kind: z.string(),
  message: z.string(),
  code: z.string().nullable(),
  params: z.record(z.string(), z.union([z.string(), z.number()])).nullable(),
  value: z.number().nullable(),
  limit: z.number().nullable(),
  at: z.string(),
  raisedAt: z.string(),
  /** The rule that raised it; null once that rule was deleted (its alerts stay in the history). */
  ruleId: z.string().nullable(),
  deliveredAt: z.string().nullable(),
  deliveryError: z.string().nullable(),
  status: z.enum(statuses),
  acknowledged: Mark.nullable(),
  resolved: Mark.nullable(),
});
export type Item = z.infer<typeof Item>;
// An alert is the Notice the channels receive, field for field.
true satisfies Notice extends Omit<Item, "ruleId" | "deliveredAt" | "deliveryError" | "status" | "acknowledged" | "resolved"> ? true : false;

/** True when every column of `Row` is a field of `Answer` or one of `Kept` (kept out of it, or folded into another field). */
type Answered<Row, Answer, Kept extends keyof Row> = [Exclude<keyof Row, keyof Answer | Kept>] extends [never] ? true : false;
// The mappers below name each field they expose, so a column never leaks by itself; these make a new column fail to
// compile until its mapper answers it (and its schema says so) or it is named here as kept out.
true satisfies Answered<typeof alertRuleTable.$inferSelect, Rule, "organizationId">;
true satisfies Answered<
  typeof alertTable.$inferSelect,
  Item,
  "organizationId" | "dedupKey" | "acknowledgedAt" | "acknowledgedBy" | "acknowledgedByName" | "resolvedAt" | "resolvedBy" | "resolvedByName"
>;

function toRule(row: typeof alertRuleTable.$inferSelect): Rule {
  return {
    id: row.id,
    factoryId: row.factoryId,
    kind: row.kind,
    threshold: row.threshold,
    channels: row.channels,
    enabled: row.enabled,
    createdAt: row.createdAt.toISOString(),
  };
}

/** Adds a rule to one of the organization's factories. */
export const createRule = fn(RuleInput.safeExtend({ organizationId: z.string() }), async (input): Promise<Rule> => {
  const factory = await Factory.get(input.organizationId, input.factoryId);
  if (!factory) throw new VisibleError("not_found", "factory.not_found", `factory ${input.factoryId} not found`);
  const [row] = await Database.use()
    .insert(alertRuleTable)
    .values({
      id: createId("alertRule"),
      organizationId: input.organizationId,
      factoryId: input.factoryId,
      kind: input.kind,
      threshold: input.threshold ?? AlertRules.defaultThresholds[input.kind],
      channels: input.channels,
      enabled: input.enabled,
    })
    .returning();
  return toRule(row as typeof alertRuleTable.$inferSelect);
});

export async function listRules(organizationId: string): Promise<Rule[]> {
  const rows = await Database.use().select().from(alertRuleTable).where(eq(alertRuleTable.organizationId, organizationId)).orderBy(alertRuleTable.createdAt);
  return rows.map(toRule);
}

export async function deleteRule(organizationId: string, id: string): Promise<void> {
  const deleted = await Database.use()
    .delete(alertRuleTable)
    .where(and(eq(alertRuleTable.organizationId, organizationId), eq(alertRuleTable.id, id)))
    .returning({ id: alertRuleTable.id });
  if (deleted.length === 0) throw new VisibleError("not_found", "alert_rule.not_found", `alert rule ${id} not found`);
}

function toItem(row: typeof alertTable.$inferSelect): Item {
  return {
    id: row.id,
    factoryId: row.factoryId,
    ruleId: row.ruleId,
    kind: row.kind,
    message: row.message,
    code: row.code,
    params: row.params,
    value: row.value,
    limit: row.limit,
    at: row.at.toISOString(),
    raisedAt: row.raisedAt.toISOString(),
    deliveredAt: row.deliveredAt?.toISOString() ?? null,
    deliveryError: row.deliveryError,
    status: row.resolvedAt ? "resolved" : row.acknowledgedAt ? "acknowledged" : "open",
    acknowledged: markOf(row.acknowledgedAt, row.acknowledgedBy, row.acknowledgedByName),
    resolved: markOf(row.resolvedAt, row.resolvedBy, row.resolvedByName),
  };
}

/** An acknowledgement's or resolution's columns as a Mark; null when it did not happen. */
function markOf(at: Date | null, by: string | null, name: string | null): Mark | null {
  return at ? { at: at.toISOString(), by: by ?? "", name } : null;
}

/** Which alerts a list wants: one status, or `unresolved` (open and acknowledged). */
export const ListQuery = z.object({
  factoryId: z.string().optional(),
  status: z.enum([...statuses, "unresolved"], { error: "status is open, acknowledged, resolved or unresolved" }).optional(),
  limit: z.coerce.number().int().min(1).max(500).optional(),
});
export type ListQuery = z.infer<typeof ListQuery>;

function statusFilter(status: ListQuery["status"]) {
  if (status === "resolved") return isNotNull(alertTable.resolvedAt);
  if (status === "unresolved") return isNull(alertTable.resolvedAt);
  if (status === "acknowledged") return and(isNull(alertTable.resolvedAt), isNotNull(alertTable.acknowledgedAt));
  if (status === "open") return and(isNull(alertTable.resolvedAt), isNull(alertTable.acknowledgedAt));
  return undefined;
}

/** The organization's alerts, newest first (for the console), by factory and status. */
export async function list(organizationId: string, options: ListQuery = {}): Promise<Item[]> {
  const rows = await Database.use()
    .select()
    .from(alertTable)
    .where(
      and(
        eq(alertTable.organizationId, organizationId),
        options.factoryId ? eq(alertTable.factoryId, options.factoryId) : undefined,
        statusFilter(options.status),
      ),
    )
    .orderBy(desc(alertTable.raisedAt), desc(alertTable.id))
    .limit(Math.min(options.limit ?? 100, 500));
  return rows.map(toItem);
}

const state = processState("wattflow.alert", (): { notifier?: Notifier } => ({}));

/** The notifier evaluations use (tests give one that reaches their servers). */
export function provideNotifier(notifier: Notifier | undefined): void {
  state.notifier = notifier;
}

/**
 * Evaluates the factory's enabled rules now, stores what is new (once per occurrence), and sends
 * new and earlier undelivered alerts to their channels. Returns the alerts raised by this call.
 */
export async function evaluate(factoryId: string, now = new Date()): Promise<Item[]> {
  const db = Database.use();
  const rules = await db
    .select()
    .from(alertRuleTable)
    .where(and(eq(alertRuleTable.factoryId, factoryId), eq(alertRuleTable.enabled, true)));
  if (rules.length === 0) return [];
  const [factory] = await db.select().from(factoryTable).where(eq(factoryTable.id, factoryId));
  if (!factory) return [];

  // Read only as far back as the rules need from the time series: an hour for punta, five weeks for the cost norm.
  const starts = rules.map((rule) => AlertRules.since(rule.kind, now)?.getTime()).filter((start) => start !== undefined);
  const windows = starts.length > 0 ? await (await TimeSeries.use()).windows({ factoryId, from: new Date(Math.min(...starts)), to: now }) : [];
  const devices = await db
    .select()
    .from(deviceTable)
    .where(and(eq(deviceTable.factoryId, factoryId), isNull(deviceTable.revokedAt)));
  const contractedDemandKw = factory.contractedDemandKw === null ? null : Number(factory.contractedDemandKw);
  // The billing period, its quarter-hours and CFE's threshold only for a rule that judges the bill: gateway and
  // time-series rules run on a factory with no tariff or prices, and cost it no bill reads.
  const bill = rules.some((rule) => AlertRules.readsBill(rule.kind)) ? await billFigures(factory, contractedDemandKw, now) : {};
  const context: AlertRules.Context = {
    now,
    timeZone: factory.timeZone,
    contractedDemandKw,
    ...bill,
    windows,
    gateways: devices.map((device) => ({
      id: device.id,
      name: device.name,
      lastSeenAt: device.lastSeenAt,
      heartbeatAt: device.heartbeatAt,
      oldestUnsentSeconds: typeof device.heartbeat?.oldestUnsentSeconds === "number" ? device.heartbeat.oldestUnsentSeconds : null,
    })),
  };

  const rows = rules.flatMap((rule) =>
    AlertRules.evaluate(rule.kind, rule.threshold, context).map((finding) => ({
      id: createId("alert"),
      organizationId: rule.organizationId,
      factoryId,
      ruleId: rule.id,
      kind: rule.kind,
      dedupKey: finding.dedupKey,
      message: finding.message,
      code: finding.code,
      params: finding.params,
      value: finding.value,
      limit: finding.limit,
      at: finding.at,
      raisedAt: now,
    })),
  );
  const raised = rows.length === 0 ? [] : await db.insert(alertTable).values(rows).onConflictDoNothing().returning();
  await deliverPending(factoryId, rules, now);
  const ids = raised.map((row) => row.id);
  if (ids.length === 0) return [];
  return (await db.select().from(alertTable).where(inArray(alertTable.id, ids)).orderBy(alertTable.id)).map(toItem);
}

/**
 * The figures of the bill the statement computes now (`AlertRules.BillFigures`): the billing period it bills (a
 * utility bill's dates, the cycle day or the calendar month), its quarter-hours so far over the basis meters, from
 * the rollups, and the power-factor threshold CFE surcharges it under (its tariff and price month, the contract).
 */
async function billFigures(factory: typeof factoryTable.$inferSelect, contractedDemandKw: number | null, now: Date): Promise<AlertRules.BillFigures> {
  const { period } = await Statement.resolve(factory, "current", now);
  const { from, to } = BillingPeriod.range(period, factory.timeZone);
  const until = new Date(Math.max(from.getTime() + 1, Math.min(now.getTime(), to.getTime())));
  const { quarters } = await Statement.quartersOf(factory.id, from, until);
  const versions = (await TariffStore.versions([factory.id], now.getTime())).get(factory.id) ?? [];
  const threshold = Bill.factoryPowerFactorThreshold(Statement.tariffOf(versions, from, until)?.definition, BillingPeriod.priceMonth(period), {
    supplyVoltage: factory.supplyVoltage,
    contractedDemandKw,
  });
  return { powerFactorThreshold: threshold / 100, quarters };
}

/** Sends every undelivered alert of the factory raised in the last day to its rule's channels. */
async function deliverPending(factoryId: string, rules: (typeof alertRuleTable.$inferSelect)[], now: Date): Promise<void> {
  const db = Database.use();
  const pending = await db
    .select()
    .from(alertTable)
    .where(and(eq(alertTable.factoryId, factoryId), isNull(alertTable.deliveredAt), gte(alertTable.raisedAt, new Date(now.getTime() - redeliverMs))));
  state.notifier ??= new ChannelNotifier();
  const notifier = state.notifier;
  for (const row of pending) {
    const channels = rules.find((rule) => rule.id === row.ruleId)?.channels ?? [];
    const notice: Notice = { ...toItem(row), factoryId: row.factoryId };
    const failures: string[] = [];
    for (const channel of channels) {
      try {
        await notifier.send(channel, notice);
      } catch (error) {
        // One channel failing must not stop the others; the reason is stored and the alert retried.
        failures.push(`${channelName(channel)}: ${(error as Error).message}`);
      }
    }
    await db
      .update(alertTable)
      .set(failures.length === 0 ? { deliveredAt: new Date(), deliveryError: null } : { deliveryError: failures.join("; ") })
      .where(eq(alertTable.id, row.id));
  }
}

/** Evaluates every factory that has an enabled rule (the schedule's entry point). */
export async function evaluateAll(now = new Date()): Promise<number> {
  const factories = await Database.use().selectDistinct({ factoryId: alertRuleTable.factoryId }).from(alertRuleTable).where(eq(alertRuleTable.enabled, true));
  let raised = 0;
  for (const { factoryId } of factories) raised += (await evaluate(factoryId, now)).length;
  return raised;
}

/**
 * Marks an alert of the actor's organization acknowledged (someone is on it) or resolved (the cause was dealt
 * with; resolving also acknowledges one nobody acknowledged). The first mark stands: doing it again answers the
 * alert as it is. Who: the person's user id (or the API token's id) and name; when: `now`, an instant (UTC).
 * @throws VisibleError `alert.not_found` for an unknown id or another organization's alert.
 */
export async function mark(actor: Auth.Actor, id: string, action: "acknowledge" | "resolve", now = new Date()): Promise<Item> {
  const db = Database.use();
  const mine = and(eq(alertTable.id, id), eq(alertTable.organizationId, actor.organizationId));
  const by = { at: now, by: actor.userId ?? actor.tokenId, name: actor.name ?? null };
  const acknowledge = { acknowledgedAt: by.at, acknowledgedBy: by.by, acknowledgedByName: by.name };
  // Conditional updates: of two people acknowledging at once, the first write stands.
  await db
    .update(alertTable)
    .set(acknowledge)
    .where(and(mine, isNull(alertTable.acknowledgedAt)));
  if (action === "resolve")
    await db
      .update(alertTable)
      .set({ resolvedAt: by.at, resolvedBy: by.by, resolvedByName: by.name })
      .where(and(mine, isNull(alertTable.resolvedAt)));
  const [row] = await db.select().from(alertTable).where(mine);
  if (!row) throw new VisibleError("not_found", "alert.not_found", `alert ${id} not found`);
  return toItem(row);
}
