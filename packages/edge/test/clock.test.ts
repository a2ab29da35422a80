/**
 * The simulated clock on virtual time (clock.ts `virtual`): it moves by exactly what each wait asks for, so a busy
 * machine slows a run down but never moves a read or a scripted fault to another simulated instant.
 */
import { describe, expect, it } from "vitest";
import { virtual } from "../src/clock";

const minute = 60_000;

describe("virtual clock", () => {
  it("a wait for a boundary ends on it exactly, and a fault scripted there is seen there, however late a blocked event loop fires the timers", async () => {
    // Prepare: 600 × real time from S (on the hour); the wall clock set an hour back, NTP lost, at S + 10 min exactly. A
    // timer blocks the event loop 30 ms at a time while the clock runs: on real time that is 18 s of clock time, so a wait
    // would overshoot its instant by up to that.
    const start = Date.parse("2026-03-01T00:00:00Z");
    const clock = virtual(start, 600, [{ afterSeconds: 600, offsetMs: -60 * minute, ntpSynchronized: false }]);
    const signal = new AbortController().signal;
    const busy = setInterval(() => {
      const until = Date.now() + 30;
      while (Date.now() < until) {
        // Busy: the machine is loaded.
      }
    }, 1);

    // Act: wait for S + 5 min on the wall clock as the agent's read loop does, then on the true time to S + 10 min.
    let atBoundary: { wall: number; true: number; ntp: boolean | undefined };
    let atFault: typeof atBoundary;
    try {
      while (clock.now() < start + 5 * minute) await clock.sleepUntil(start + 5 * minute, signal);
      atBoundary = { wall: clock.now(), true: clock.origin + clock.monotonic(), ntp: clock.ntpSynchronized?.() };
      while (clock.monotonic() < 10 * minute) await clock.sleep(Math.min(10_000, 10 * minute - clock.monotonic()), signal);
      atFault = { wall: clock.now(), true: clock.origin + clock.monotonic(), ntp: clock.ntpSynchronized?.() };
    } finally {
      clearInterval(busy);
    }

    // Assess: the first wait ended at S + 5 min to the millisecond, wall and true time alike, NTP synchronized; the second
    // at S + 10 min exactly, where the wall clock reads S − 50 min (an hour back) and NTP is lost.
    expect(atBoundary).toEqual({ wall: start + 5 * minute, true: start + 5 * minute, ntp: true });
    expect(atFault).toEqual({ wall: start - 50 * minute, true: start + 10 * minute, ntp: false });
  });

  it("stands still between waits: what runs between two waits sees one instant", async () => {
    // Prepare: a clock at 600× from S.
    const start = Date.parse("2026-03-01T00:00:00Z");
    const clock = virtual(start, 600);

    // Act: 50 real ms pass without a wait on the clock (30 s of clock time on real time), then one wait of 5 min.
    await new Promise((resolve) => setTimeout(resolve, 50));
    const still = clock.now();
    await clock.sleep(5 * minute);

    // Assess: still S after 50 real ms; S + 5 min after the wait; a cloud answer counts as given at the current instant.
    expect(still).toBe(start);
    expect(clock.now()).toBe(start + 5 * minute);
    expect(clock.fromServer(Date.now())).toBe(start + 5 * minute);
  });
});
