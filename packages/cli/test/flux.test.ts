import { spawnSync } from "node:child_process";
import { describe, expect, it } from "vitest";
import { bin } from "./support";

function wattflow(...args: string[]) {
  const result = spawnSync(process.execPath, [bin, ...args], { encoding: "utf8" });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

/** `wattflow flux energy` with the usual flags, any of them overridden. */
function energy(overrides: Record<string, string> = {}) {
  const flags = { bucket: "B", meter: "ID", from: "2026-03-01T00:00:00Z", to: "2026-03-02T00:00:00Z", every: "1h", ...overrides };
  return wattflow("flux", "energy", ...Object.entries(flags).flatMap(([name, value]) => [`--${name}`, value]));
}

describe("wattflow flux", () => {
  it("energy prints the library's query for one meter, exactly", () => {
    const result = energy();

    expect(result.stderr).toBe("");
    expect(result.status).toBe(0);
    expect(result.stdout).toBe(
      [
        'from(bucket: "B")',
        "  |> range(start: 2026-03-01T00:00:00Z, stop: 2026-03-02T00:00:00Z)",
        '  |> filter(fn: (r) => r._measurement == "reading")',
        '  |> filter(fn: (r) => r["meter"] == "ID")',
        '  |> filter(fn: (r) => r._field == "kwh")',
        '  |> aggregateWindow(every: 1h, fn: sum, createEmpty: false, timeSrc: "_start")',
        '  |> yield(name: "energy")',
        "",
      ].join("\n"),
    );
  });

  it("escapes what it is given and refuses what is not a duration or a time (exit 2)", () => {
    const quoted = energy({ meter: 'a" or true or "', from: "2026-03-01T00:00:00-06:00", to: "2026-03-02T00:00:00-06:00", every: "15m" });
    const badEvery = energy({ every: "1h) |> drop(" });
    const badTime = energy({ from: "yesterday" });
    const backwards = energy({ from: "2026-11-01T00:00:00Z", to: "2026-10-01T00:00:00Z" });

    expect(quoted.stdout).toContain('r["meter"] == "a\\" or true or \\""');
    expect(quoted.stdout).toContain("range(start: 2026-03-01T06:00:00Z, stop: 2026-03-02T06:00:00Z)");
    expect(badEvery.status).toBe(2);
    expect(badEvery.stdout).toBe("");
    expect(badEvery.stderr).toMatch(/not a positive Flux duration/);
    expect(badTime.status).toBe(2);
    expect(badTime.stderr).toMatch(/not an ISO 8601 instant/);
    expect(backwards.status).toBe(2);
    expect(backwards.stderr).toBe("wattflow: the range's stop (2026-10-01T00:00:00Z) is before its start (2026-11-01T00:00:00Z)\n");
  });

  it("cost-by-period needs the factory's zone and names a factory or meters", () => {
    const ok = wattflow(
      "flux",
      "cost-by-period",
      "--bucket",
      "B",
      "--factory",
      "fac_1",
      "--from",
      "2026-03-01T06:00:00Z",
      "--to",
      "2026-04-01T06:00:00Z",
      "--tz",
      "America/Mexico_City",
    );
    const nothing = wattflow("flux", "demand", "--bucket", "B", "--from", "2026-03-01T06:00:00Z", "--to", "2026-04-01T06:00:00Z");

    expect(ok.status).toBe(0);
    expect(ok.stdout.startsWith('import "timezone"\n\nfrom(bucket: "B")')).toBe(true);
    expect(ok.stdout).toContain('location: timezone.location(name: "America/Mexico_City")');
    expect(nothing.status).toBe(2);
    expect(nothing.stderr).toMatch(/--meter <id>.*--factory <id>/);
  });

  it("a zone typed in any case goes out canonical; an unknown zone is refused (exit 2)", () => {
    const lower = energy({ every: "1d", tz: "america/monterrey" });
    const unknown = energy({ every: "1d", tz: "America/Gotham" });

    expect(lower.status).toBe(0);
    expect(lower.stdout).toContain('timezone.location(name: "America/Monterrey")');
    expect(unknown.status).toBe(2);
    expect(unknown.stderr).toMatch(/"America\/Gotham" is not an IANA time zone/);
  });

  it("counter-energy counts a meter reset from zero", () => {
    const flags = { bucket: "B", meter: "ID", from: "2026-03-01T00:00:00Z", to: "2026-03-02T00:00:00Z", every: "1h", field: "import_kwh" };
    const result = wattflow("flux", "counter-energy", ...Object.entries(flags).flatMap(([name, value]) => [`--${name}`, value]));

    expect(result.status).toBe(0);
    expect(result.stdout).toContain('  |> filter(fn: (r) => r._field == "import_kwh")\n  |> difference(nonNegative: true, initialZero: true)\n');
  });
});
