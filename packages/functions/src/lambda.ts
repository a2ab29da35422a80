/**
 * What every Lambda entry shares: SST links turned into the environment core reads
 * (DATABASE_URL), Powertools logger and metrics, and Sentry when the SentryDsn secret is set.
 * Outside Lambda (`npm start`, tests) a wrapped handler behaves like the plain one.
 * @example export const handler = lambda("drainer", async (event: SQSEvent) => ...)
 */
import { Logger } from "@aws-lambda-powertools/logger";
import { Metrics, MetricUnit } from "@aws-lambda-powertools/metrics";
import type { Context, Handler } from "aws-lambda";
import { Resource } from "sst";

/** What stacks/ link to the functions; SST puts their values in the function's encrypted resource file. */
type Links = {
  Database?: { host: string; port: number; username: string; password: string; database: string };
  SentryDsn?: { value: string };
  RecordKey?: { value: string };
  SessionSecret?: { value: string };
  InfluxUrl?: { value: string };
  InfluxToken?: { value: string };
  Influx?: { url?: string; org: string; bucket: string };
};

/** Secrets core reads from the environment, by the link that carries each. */
const secretEnvironment = {
  RecordKey: "WATTFLOW_RECORD_KEY",
  SessionSecret: "WATTFLOW_SESSION_SECRET",
  InfluxUrl: "INFLUX_URL",
  InfluxToken: "INFLUX_TOKEN",
} as const;

export const logger = new Logger({ serviceName: process.env.POWERTOOLS_SERVICE_NAME ?? "wattflow" });
const metrics = new Metrics({ namespace: process.env.POWERTOOLS_METRICS_NAMESPACE ?? "Wattflow", serviceName: "wattflow" });

const inLambda = () => Boolean(process.env.AWS_LAMBDA_FUNCTION_NAME);

/** Adds to a CloudWatch metric (EMF, published after the invocation); outside Lambda it does nothing. */
export function count(name: string, value: number): void {
  if (inLambda()) metrics.addMetric(name, MetricUnit.Count, value);
}

/** Reads a link, or undefined when it is not linked (locally there are no links at all). */
function link<K extends keyof Links>(name: K): Links[K] | undefined {
  if (!inLambda()) return undefined;
  const resources = Resource as unknown as Links;
  return name in resources ? resources[name] : undefined;
}

/**
 * Core reads its settings from the environment (DATABASE_URL, INFLUX_URL...). On AWS they come from
 * the links, which SST keeps in the function's encrypted resource file rather than in plain env vars.
 */
function linkEnvironment(): void {
  for (const [name, variable] of Object.entries(secretEnvironment) as [keyof typeof secretEnvironment, string][]) {
    const value = link(name)?.value;
    if (value && !process.env[variable]) process.env[variable] = value;
  }
  const influx = link("Influx");
  if (influx) {
    process.env.INFLUX_ORG ??= influx.org;
    process.env.INFLUX_BUCKET ??= influx.bucket;
    if (influx.url) process.env.INFLUX_URL ??= influx.url;
  }
  if (process.env.DATABASE_URL) return;
  const db = link("Database");
  if (!db) return;
  const url = new URL("postgres://placeholder");
  url.hostname = db.host;
  url.port = String(db.port);
  url.username = db.username;
  url.password = db.password;
  url.pathname = `/${db.database}`;
  // Aurora requires TLS from Lambda; the RDS CA is not in Node's store, so verify the name is not pinned.
  url.searchParams.set("sslmode", "no-verify");
  process.env.DATABASE_URL = url.toString();
}

type Wrapped<E, R> = (event: E, context?: Context) => Promise<R>;

/** Wraps a handler with the shared runtime; `name` becomes the logs' and metrics' function dimension. */
export function lambda<E, R>(name: string, handler: (event: E, context?: Context) => Promise<R>): Wrapped<E, R> {
  let sentry: Promise<Wrapped<E, R> | undefined> | undefined;
  return async (event, context) => {
    if (!inLambda() || !context) return handler(event, context);
    linkEnvironment();
    logger.addContext(context);
    logger.appendKeys({ function: name });
    metrics.addDimension("function", name);
    sentry ??= withSentry(handler);
    const run = (await sentry) ?? handler;
    try {
      return await run(event, context);
    } catch (error) {
      logger.error("invocation failed", error as Error);
      throw error;
    } finally {
      if (metrics.hasStoredMetrics()) metrics.publishStoredMetrics();
    }
  };
}

/** Sentry's Lambda wrapper around `handler`, or undefined when no DSN is set for the stage. */
async function withSentry<E, R>(handler: (event: E, context?: Context) => Promise<R>): Promise<Wrapped<E, R> | undefined> {
  const dsn = link("SentryDsn")?.value ?? process.env.SENTRY_DSN;
  if (!dsn) return undefined;
  const Sentry = await import("@sentry/aws-serverless");
  Sentry.init({ dsn, environment: process.env.WATTFLOW_STAGE ?? "unknown", tracesSampleRate: 0 });
  const wrapped = Sentry.wrapHandler(handler as Handler<E, R>);
  return (event, context) => wrapped(event, context as Context, () => {}) as Promise<R>;
}
