/** uPlot charts: canvas drawing keeps a month of 5-minute buckets (8,640 points a series) quick. */
import { useLayoutEffect, useRef } from "react";
import uPlot from "uplot";
import "uplot/dist/uPlot.min.css";
import { date, wallClock, when } from "./format";

/** Time-of-use colours (CFE's base/intermedia/semipunta/punta; grey for other or no periods), as RGB. */
const periodRgb: Record<string, string> = { base: "46, 160, 67", intermedia: "227, 160, 8", semipunta: "240, 120, 40", punta: "218, 54, 51" };
/** A period's colour: faint for shading behind a series, strong for bars and legends. */
export const periodColor = (period: string | null, alpha = 0.15) => `rgba(${(period && periodRgb[period]) || "110, 118, 129"}, ${alpha})`;

type ChartProps = { options: Omit<uPlot.Options, "width" | "height">; data: uPlot.AlignedData; height?: number; label: string; onDrawn?: () => void };

/** A uPlot chart that follows its container's width; drawn synchronously on mount, so a render measurement includes it. */
export function Chart({ options, data, height = 260, label, onDrawn }: ChartProps) {
  const box = useRef<HTMLDivElement>(null);
  useLayoutEffect(() => {
    const element = box.current;
    if (!element) return;
    // The card's width, however narrow the screen (a phone's card is about 330 px): never wider than the card.
    const width = () => Math.max(element.clientWidth, 160);
    // The scales' bounds on the element (data-x-min …, seconds and the y unit), for tests to read what the axes span.
    const expose = (u: uPlot) => {
      for (const key of ["x", "y"]) {
        element.dataset[`${key}Min`] = String(u.scales[key]?.min);
        element.dataset[`${key}Max`] = String(u.scales[key]?.max);
      }
    };
    const hooks = { ...options.hooks, setScale: [...(options.hooks?.setScale ?? []), expose] };
    const plot = new uPlot({ ...options, hooks, width: width(), height }, data, element);
    expose(plot);
    onDrawn?.();
    const observer = new ResizeObserver(() => plot.setSize({ width: width(), height }));
    observer.observe(element);
    return () => {
      observer.disconnect();
      plot.destroy();
    };
  }, [options, data, height, onDrawn]);
  return <div className="chart" ref={box} role="img" aria-label={label} />;
}

/** The buckets' times and TOU periods as the series gives them (Usage.Series["buckets"]). */
type PeriodBuckets = { t: number[]; end: number[]; period: (string | null)[]; periodKwh: Record<string, number[]> };

/**
 * The TOU shading of `buckets` behind the series, each bucket as wide as it is ([t, end), seconds). A bucket within one
 * period is shaded the full height, runs of them as one band; a bucket that spans periods (an hour across a change, a
 * day) is split top to bottom by each period's share of its kWh, so a day never shows as all "intermedia".
 * @example touShading({ t: [0], end: [86_400], period: ["intermedia"], periodKwh: { base: [30], intermedia: [60], punta: [10] } })
 */
export function touShading(buckets: PeriodBuckets): uPlot.Plugin {
  type Band = { from: number; to: number; shares: { period: string; share: number }[] };
  const bands: Band[] = [];
  const names = Object.keys(buckets.periodKwh);
  for (let i = 0; i < buckets.t.length; i++) {
    const from = buckets.t[i] ?? 0;
    const to = buckets.end[i] ?? from;
    const held = names.map((period) => ({ period, kwh: buckets.periodKwh[period]?.[i] ?? 0 })).filter((part) => part.kwh > 0);
    const total = held.reduce((sum, part) => sum + part.kwh, 0);
    const only = buckets.period[i] ?? null;
    // No energy to split by (a bucket of zeros): its period, if it has one, the full height.
    const shares = total > 0 ? held.map((part) => ({ period: part.period, share: part.kwh / total })) : only ? [{ period: only, share: 1 }] : [];
    const last = bands.at(-1);
    const single = shares.length === 1 ? shares[0]?.period : undefined;
    if (last && single && last.to === from && last.shares.length === 1 && last.shares[0]?.period === single) last.to = to;
    else if (shares.length > 0) bands.push({ from, to, shares });
  }
  return {
    hooks: {
      drawClear: [
        (u) => {
          const { ctx } = u;
          const { top, height } = u.bbox;
          ctx.save();
          for (const band of bands) {
            const x0 = u.valToPos(band.from, "x", true);
            const x1 = u.valToPos(band.to, "x", true);
            let y = top;
            for (const { period, share } of band.shares) {
              ctx.fillStyle = periodColor(period);
              ctx.fillRect(x0, y, Math.max(x1 - x0, 1), height * share);
              y += height * share;
            }
          }
          ctx.restore();
        },
      ],
    },
  };
}

/**
 * The time axis and the legend's time on the factory's clock in the console's language: the x scale spans the range
 * asked for (`from`..`to`, seconds), whatever the number of points (one reading no longer stretches it over years);
 * ticks read "14:00" within a day, with the date ("30/11") under the first tick of each day, and "30/11" when the
 * ticks are a day or more apart; the legend shows "30/11/2026 14:05".
 */
export function timeAxis(timeZone: string, from: number, to: number) {
  const clock = wallClock(timeZone);
  const parts = (seconds: number) => {
    const [day = "", time = ""] = clock.format(new Date(seconds * 1000)).split(", ");
    return { day, time };
  };
  const dayMonth = (ymd: string) => date(ymd).slice(0, 5);
  const values: uPlot.Axis.DynamicValues = (_u, splits, _axis, _space, increment) => {
    let previousDay = "";
    return splits.map((split) => {
      const { day, time } = parts(split);
      const first = day !== previousDay;
      previousDay = day;
      if (increment >= 86_400) return dayMonth(day);
      return first ? `${time}\n${dayMonth(day)}` : time;
    });
  };
  return {
    scale: { time: true, range: [from, Math.max(to, from + 300)] as uPlot.Range.MinMax },
    axis: { values, size: 50 } satisfies uPlot.Axis,
    series: {
      value: (_u: uPlot, seconds: number | null) => (seconds === null ? "—" : when(new Date(seconds * 1000).toISOString(), timeZone)),
    } satisfies uPlot.Series,
  };
}

/** A y scale from 0 to a tenth above the highest value (and at least `floor`), so a flat or single value still has room. */
export function fromZero(floor = 1): uPlot.Range.Function {
  return (_u, _min, max) => [0, Math.max(Number.isFinite(max) ? max : 0, floor) * 1.1];
}

/** Marks the peak of series 1 with a dot and its value; `label` words it ("máx. 1,251 kW"). */
export function peakMarker(peak: { t: number; kw: number } | null, label: (kw: number) => string): uPlot.Plugin {
  return {
    hooks: {
      draw: [
        (u) => {
          if (!peak) return;
          const { ctx } = u;
          const x = u.valToPos(peak.t, "x", true);
          const y = u.valToPos(peak.kw, "y", true);
          const ratio = devicePixelRatio || 1;
          ctx.save();
          ctx.fillStyle = "#d1242f";
          ctx.beginPath();
          ctx.arc(x, y, 5 * ratio, 0, 2 * Math.PI);
          ctx.fill();
          ctx.font = `${12 * ratio}px system-ui, sans-serif`;
          ctx.textAlign = x > u.bbox.left + u.bbox.width * 0.8 ? "right" : "left";
          ctx.fillText(label(peak.kw), x + (ctx.textAlign === "right" ? -8 : 8) * ratio, y - 8 * ratio);
          ctx.restore();
        },
      ],
    },
  };
}

/** Estimated energy's colour: the line of its series and the stripes of its hatching. */
export const estimatedSwatch = "rgba(154, 103, 0, 0.9)";

/** Diagonal stripes, so estimated energy reads as different from measured in colour and in print. */
export const estimatedFill: uPlot.Series.Fill = (u) => {
  const ratio = devicePixelRatio || 1;
  const tile = document.createElement("canvas");
  tile.width = tile.height = 8 * ratio;
  const ctx = tile.getContext("2d");
  if (!ctx) return "rgba(154, 103, 0, 0.25)";
  ctx.strokeStyle = estimatedSwatch;
  ctx.lineWidth = ratio;
  ctx.beginPath();
  ctx.moveTo(0, tile.height);
  ctx.lineTo(tile.width, 0);
  ctx.stroke();
  return u.ctx.createPattern(tile, "repeat") ?? "rgba(154, 103, 0, 0.25)";
};
