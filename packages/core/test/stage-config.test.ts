import { describe, expect, it } from "vitest";
import { configFor, problems, stages } from "../../../stacks/config";
import { Config } from "../src/config";

const named = [...Object.keys(stages), "dev", "pr-42"];

describe("per-stage infrastructure config", () => {
  it.each(named)("keeps every rule that ties the numbers together for stage %s", (stage) => {
    expect(problems(configFor(stage))).toEqual([]);
  });

  it("retains and sizes only production as production", () => {
    expect(configFor("production").production).toBe(true);
    expect(configFor("staging").production).toBe(false);
    expect(configFor("alice").production).toBe(false);
  });

  it("keeps production's database always on, and lets other stages scale to zero", () => {
    expect(configFor("production").database.minAcu).toBeGreaterThan(0);
    expect(configFor("production").database.pauseAfter).toBeUndefined();
    expect(configFor("alice").database).toMatchObject({ minAcu: 0, pauseAfter: "5 minutes" });
  });

  it("gives any unknown stage the development shape under its own name", () => {
    const config = configFor("pr-42");
    expect(config.stage).toBe("pr-42");
    expect(config.stream.capacity).toEqual({ mode: "ON_DEMAND" });
    expect(config.timeseries).toEqual({ kind: "none" });
  });

  it("subscribes the consumer like the local poller, so a batch behaves the same on both runtimes", () => {
    for (const stage of named) {
      const consumer = configFor(stage).consumer;
      expect(consumer.batchSize).toBe(Config.consumer.batchSize);
      expect(consumer.maximumRetryAttempts).toBe(Config.consumer.maximumRetryAttempts);
      expect(consumer.bisectBatchOnFunctionError).toBe(Config.consumer.bisectBatchOnFunctionError);
    }
  });

  it("reports a record age that would leave the drainer nothing to read", () => {
    const config = configFor("production");
    const broken = { ...config, consumer: { ...config.consumer, maximumRecordAgeSeconds: 7 * 24 * 3600 } };

    expect(problems(broken)).toContain("the drainer needs at least 2 days of stream retention after a batch is given up");
  });

  it("reports a production database that would pause and a retention shorter than the partitions kept", () => {
    const config = configFor("production");
    const broken = { ...config, database: { ...config.database, minAcu: 0, readingRetentionMonths: 6 } };

    expect(problems(broken)).toEqual([
      "0 ACU needs pauseAfter (scale to zero)",
      "production must not pause: the consumer writes all the time",
      "reading retention must exceed the 13 months of partitions kept back",
    ]);
  });
});
