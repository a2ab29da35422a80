/**
 * Each counter meter's read health for `edge status` and the heartbeat: when it last answered a whole read
 * (the boundary that read stands for) and how many reads in a row have failed since.
 */
export type MeterHealth = { meterId: string; lastGoodRead: string | null; consecutiveFailures: number };

export class ReadHealth {
  private readonly meters = new Map<string, { lastGoodMs: number | null; failures: number }>();

  /** The meter answered the read of boundary `atMs`. */
  ok(meterId: string, atMs: number): void {
    this.meters.set(meterId, { lastGoodMs: atMs, failures: 0 });
  }

  /** The meter's read failed (no answer, CRC, exception, port). */
  failed(meterId: string): void {
    const meter = this.meters.get(meterId) ?? { lastGoodMs: null, failures: 0 };
    this.meters.set(meterId, { ...meter, failures: meter.failures + 1 });
  }

  /** Keeps only the meters still configured (a meter removed by a cloud config is no longer reported). */
  retain(meterIds: Iterable<string>): void {
    const kept = new Set(meterIds);
    for (const meterId of this.meters.keys()) if (!kept.has(meterId)) this.meters.delete(meterId);
  }

  list(): MeterHealth[] {
    return [...this.meters].map(([meterId, meter]) => ({
      meterId,
      lastGoodRead: meter.lastGoodMs === null ? null : new Date(meter.lastGoodMs).toISOString(),
      consecutiveFailures: meter.failures,
    }));
  }
}
