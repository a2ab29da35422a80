/** uPlot charts: canvas drawing keeps a month of 5-minute buckets (8,640 points a series) quick. */
import { useLayoutEffect, useRef } from "react";
import uPlot from "uplot";
import "uplot/dist/uPlot.min.css";

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
    const plot = new uPlot({ ...options, width: Math.max(element.clientWidth, 320), height }, data, element);
    onDrawn?.();
    const observer = new ResizeObserver(() => plot.setSize({ width: Math.max(element.clientWidth, 320), height }));
    observer.observe(element);
    return () => {
      observer.disconnect();
      plot.destroy();
    };
  }, [options, data, height, onDrawn]);
  return <div className="chart" ref={box} role="img" aria-label={label} />;
}

/** Shades each run of buckets that share a TOU period behind the series. */
export function touShading(t: number[], periods: (string | null)[], bucketSeconds: number): uPlot.Plugin {
  const runs: { from: number; to: number; period: string | null }[] = [];
  for (let i = 0; i < t.length; i++) {
    const period = periods[i] ?? null;
    const start = t[i] ?? 0;
    const last = runs.at(-1);
    if (last && last.period === period && last.to === start) last.to = start + bucketSeconds;
    else runs.push({ from: start, to: start + bucketSeconds, period });
  }
  return {
    hooks: {
      drawClear: [
        (u) => {
          const { ctx } = u;
          const { top, height } = u.bbox;
          ctx.save();
          for (const run of runs) {
            if (!run.period) continue;
            const x0 = u.valToPos(run.from, "x", true);
            const x1 = u.valToPos(run.to, "x", true);
            ctx.fillStyle = periodColor(run.period);
            ctx.fillRect(x0, top, Math.max(x1 - x0, 1), height);
          }
          ctx.restore();
        },
      ],
    },
  };
}

/** Marks the peak of series 1 with a dot and its value. */
export function peakMarker(peak: { t: number; kw: number } | null): uPlot.Plugin {
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
          ctx.fillText(`peak ${Math.round(peak.kw).toLocaleString()} kW`, x + (ctx.textAlign === "right" ? -8 : 8) * ratio, y - 8 * ratio);
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
