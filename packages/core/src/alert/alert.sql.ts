import { boolean, doublePrecision, index, jsonb, pgTable, text, uniqueIndex } from "drizzle-orm/pg-core";
import { ownedTable } from "../database/table";
import { id, instant, reference } from "../database/types";
import { factoryTable } from "../factory/factory.sql";

/** Where an alert goes: an SNS topic, an e-mail address (SES), or a webhook URL (POST JSON). */
export type Channel = { type: "sns"; topicArn: string } | { type: "email"; to: string } | { type: "webhook"; url: string };

/** A rule an energy manager sets for a factory; `threshold` means what its kind says (alert/rules.ts thresholdMeaning). */
export const alertRuleTable = ownedTable(
  "alert_rule",
  {
    factoryId: reference("factory_id", () => factoryTable.id),
    kind: text("kind", {
      enum: ["demand_near_peak", "demand_near_contracted_punta", "power_factor_low", "gateway_silent", "gateway_backlog", "daily_cost_anomaly"],
    }).notNull(),
    /** Null: the kind's default (AlertRules.defaultThresholds); for the power factor, the factory's CFE threshold. */
    threshold: doublePrecision("threshold"),
    channels: jsonb("channels").$type<Channel[]>().notNull().default([]),
    enabled: boolean("enabled").notNull().default(true),
  },
  (t) => [index("alert_rule_factory_idx").on(t.factoryId)],
);

/**
 * An alert raised by a rule. `dedupKey` names the occurrence (the window, day or silence it is
 * about): a rule raises one alert per occurrence however often it is evaluated.
 */
export const alertTable = pgTable(
  "alert",
  {
    id: id(),
    organizationId: text("organization_id").notNull(),
    factoryId: text("factory_id").notNull(),
    /** The rule that raised it; null once that rule is deleted: the alert stays in the history, as raised and sent. */
    ruleId: text("rule_id").references(() => alertRuleTable.id, { onDelete: "set null" }),
    kind: text("kind").notNull(),
    dedupKey: text("dedup_key").notNull(),
    /** In English, for e-mail, SNS, webhooks and API clients. */
    message: text("message").notNull(),
    /** What the alert says as a code and its parameters (AlertRules.Finding), for the console to word; null on alerts raised before them. */
    code: text("code"),
    params: jsonb("params").$type<Record<string, string | number>>(),
    value: doublePrecision("value"),
    limit: doublePrecision("limit"),
    /** The instant the alert is about (window start, day start, last heartbeat). */
    at: instant("at").notNull(),
    raisedAt: instant("raised_at").notNull(),
    deliveredAt: instant("delivered_at"),
    /** Why the last delivery attempt failed, per channel; retried by the next evaluation. */
    deliveryError: text("delivery_error"),
    /** Someone saw it and is on it: when, who (user or API token id) and that actor's name then. */
    acknowledgedAt: instant("acknowledged_at"),
    acknowledgedBy: text("acknowledged_by"),
    acknowledgedByName: text("acknowledged_by_name"),
    /** The cause was dealt with: when, who and their name then. */
    resolvedAt: instant("resolved_at"),
    resolvedBy: text("resolved_by"),
    resolvedByName: text("resolved_by_name"),
  },
  (t) => [uniqueIndex("alert_rule_dedup_idx").on(t.ruleId, t.dedupKey), index("alert_organization_raised_idx").on(t.organizationId, t.raisedAt)],
);
