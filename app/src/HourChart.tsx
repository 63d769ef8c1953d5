// Today by the hour, at a glance: takings as bars, cart changes as a line over
// them. Plain SVG, so it draws the same in every browser and scales with the panel.
import { cents } from "./format.ts";

export interface HourPoint {
  /** 0–23, the device's local hour. */
  hour: number;
  takingsCents: number;
  changes: number;
}

const W = 360;
const H = 150;
const PAD = { left: 8, right: 8, top: 12, bottom: 22 };

export function HourChart({ points }: { points: HourPoint[] }) {
  const maxTakings = Math.max(1, ...points.map((p) => p.takingsCents));
  const maxChanges = Math.max(1, ...points.map((p) => p.changes));
  const step = (W - PAD.left - PAD.right) / Math.max(1, points.length);
  const y = (share: number) => PAD.top + (1 - share) * (H - PAD.top - PAD.bottom);
  const line = points.map((p, i) => `${PAD.left + step * (i + 0.5)},${y(p.changes / maxChanges)}`).join(" ");
  const best = points.reduce((a, b) => (b.takingsCents > a.takingsCents ? b : a), points[0]);
  const label = points.length === 0
    ? "No sales yet today."
    : `Takings and cart changes by hour today; the busiest hour so far is ${
      String(best.hour).padStart(2, "0")
    }:00 with ${cents(best.takingsCents)}.`;

  return (
    <figure className="hour-chart">
      <svg viewBox={`0 0 ${W} ${H}`} role="img" aria-label={label}>
        {points.map((p, i) => {
          const top = y(p.takingsCents / maxTakings);
          return (
            <g key={p.hour}>
              <rect
                x={PAD.left + step * i + step * 0.15}
                y={top}
                width={step * 0.7}
                height={Math.max(0, H - PAD.bottom - top)}
                rx={2}
                className="bar"
              />
              {(points.length <= 12 || p.hour % 3 === 0) && (
                <text x={PAD.left + step * (i + 0.5)} y={H - 6} textAnchor="middle" className="tick">
                  {p.hour}
                </text>
              )}
            </g>
          );
        })}
        {points.length > 1 && <polyline points={line} className="changes" fill="none" />}
        <line x1={PAD.left} x2={W - PAD.right} y1={H - PAD.bottom} y2={H - PAD.bottom} className="axis" />
      </svg>
      <figcaption className="legend">
        <span>
          <span className="key bar" aria-hidden="true" /> Takings by hour
        </span>
        <span>
          <span className="key changes" aria-hidden="true" /> Cart changes by hour
        </span>
      </figcaption>
    </figure>
  );
}

/** The hours of today so far, from opening (the first hour with activity, 8:00 at the latest) to now. */
export function hoursOfToday(
  rows: Array<{ hour: string; checkout_value_cents: number; mutations: number }>,
  now = new Date(),
): HourPoint[] {
  const byHour = new Map<number, HourPoint>();
  for (const row of rows) {
    const at = new Date(row.hour);
    if (at.toDateString() !== now.toDateString()) continue;
    const hour = at.getHours();
    const point = byHour.get(hour) ?? { hour, takingsCents: 0, changes: 0 };
    point.takingsCents += Number(row.checkout_value_cents ?? 0);
    point.changes += Number(row.mutations ?? 0);
    byHour.set(hour, point);
  }
  const first = Math.min(8, now.getHours(), ...byHour.keys());
  const points: HourPoint[] = [];
  for (let hour = first; hour <= now.getHours(); hour++) {
    points.push(byHour.get(hour) ?? { hour, takingsCents: 0, changes: 0 });
  }
  return points;
}
