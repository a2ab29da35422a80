/**
 * Trusted time (trust.ts) against a simulated board on virtual time (clock.ts `virtual`, 600 000 × real time), so
 * each look at the clock happens at the simulated instant the test chooses.
 */
import { describe, expect, it } from "vitest";
import { virtual } from "../src/clock";
import { simulatedSource, TimeTrust } from "../src/trust";

const minute = 60_000;

describe("trusted time", () => {
  it("a cloud answer whose request left before the wall clock stepped back and came back after it says nothing", async () => {
    // Prepare: a board trusted by NTP from S; at S + 20 min its wall clock is set an hour back and NTP is lost. A heartbeat
    // leaves 10 s before the step (wall S + 19:50) and its answer comes after it (wall S − 40 min): by the wall clock the
    // round trip took −59:50. Worked by hand with the cloud's time S + 20 min: the middle of the request is
    // (S + 19:50 + S − 40:00) / 2 = S − 10:05, the offset +30:05 and the uncertainty half the round trip, −29:55, so
    // |offset| + uncertainty = 10 s, inside the 30 s tolerance: read as agreement, it would trust a clock an hour behind.
    const start = Date.parse("2026-03-01T00:00:00Z");
    const clock = virtual(start, 600_000, [{ afterSeconds: 1200, offsetMs: -60 * minute, ntpSynchronized: false }]);
    const changes: string[] = [];
    const trust = new TimeTrust(clock, simulatedSource(clock), { onChange: (health) => changes.push(`${health.state}: ${health.reason}`) });
    await clock.sleep(19 * minute + 50_000);
    const sentWallMs = clock.now();
    await clock.sleep(10_000);
    const stepSeen = trust.check();

    // Act
    trust.cloudAnswer({ serverMs: Date.now(), resolutionMs: 1, sentWallMs, receivedWallMs: clock.now() });

    // Assess: trusted by NTP at the start, untrusted at the step, and still untrusted after the answer.
    expect(stepSeen).toBe(false);
    expect(trust.check()).toBe(false);
    expect(trust.health()).toEqual(expect.objectContaining({ state: "untrusted", source: null }));
    expect(changes).toEqual(["trusted: NTP synchronized (simulated)", "untrusted: the clock stepped backwards by 3600 s"]);
  });

  it("a cloud answer that comes before the agent looked at a stepped clock tells the step, then the disagreement", async () => {
    // Prepare: a board trusted by NTP from S; at S + 20 min its wall clock is set an hour forward and NTP is lost. Nothing
    // looks at the clock between S + 19:50 and S + 20:10.
    const start = Date.parse("2026-03-01T00:00:00Z");
    const clock = virtual(start, 600_000, [{ afterSeconds: 1200, offsetMs: 60 * minute, ntpSynchronized: false }]);
    const changes: string[] = [];
    const trust = new TimeTrust(clock, simulatedSource(clock), { onChange: (health) => changes.push(`${health.state}: ${health.reason}`) });
    await clock.sleep(19 * minute + 50_000);
    trust.check();
    await clock.sleep(10_000);
    const sentWallMs = clock.now();
    await clock.sleep(10_000);

    // Act: a heartbeat sent at wall S + 1:20:00, answered at wall S + 1:20:10 with the cloud's time S + 20:10: by hand, the
    // middle of the request is S + 1:20:05 and the offset −59:55 (−3595 s), far beyond the 30 s tolerance.
    trust.cloudAnswer({ serverMs: Date.now(), resolutionMs: 1, sentWallMs, receivedWallMs: clock.now() });

    // Assess: trust was lost to the step (what `edge status` and the log then say), and the cloud's disagreement is noted
    // against the stepped clock.
    expect(changes).toEqual(["trusted: NTP synchronized (simulated)", "untrusted: the clock stepped forwards by 3600 s"]);
    expect(trust.health()).toEqual(expect.objectContaining({ state: "untrusted", offsetSeconds: -3595 }));
  });
});
