// Usage by day over the last 30 days, of one member (their page) or of the whole
// organization (Activity): the total, a bar per day drawn as SVG by the app (no charting
// package: the bars are a few rectangles), and the same figures as a table for whoever does
// not see the chart. One request per metric shown (`groupBy=day`, with `userId` for one
// member: their own copy of the counters); a picker chooses the metric when the deployment
// names several. Imported only by pages loaded on demand, so not part of a first visit.
import { useEffect, useId, useState } from "preact/hooks";
import { api, ok } from "../../api/client";
import { sentence } from "../../api/messages";
import { ErrorText } from "../../components/Status";
import type { UsageMetric } from "../../config";
import { amount } from "../../format";
import "./usage.css";

type Days = { from: string; to: string; totals: Map<string, string> };

const DAY = new Intl.DateTimeFormat("en-GB", { day: "numeric", month: "short", timeZone: "UTC" });
const dayLabel = (day: string) => DAY.format(new Date(`${day}T00:00:00Z`));

/** Every day from `from` to `to` (YYYY-MM-DD, UTC), both counted. */
function daysBetween(from: string, to: string): string[] {
  const days: string[] = [];
  for (let t = Date.parse(`${from}T00:00:00Z`); t <= Date.parse(`${to}T00:00:00Z`); t += 86_400_000) {
    days.push(new Date(t).toISOString().slice(0, 10));
  }
  return days;
}

/** The exact sum of decimal strings (the API's totals), kept exact with bigint over their
 * largest count of decimal places. */
function sum(totals: string[]): string {
  const places = Math.max(0, ...totals.map((t) => t.split(".")[1]?.length ?? 0));
  const scaled = totals.reduce((acc, t) => {
    const [int, frac = ""] = t.replace("-", "").split(".");
    const v = BigInt(int! + frac.padEnd(places, "0"));
    return acc + (t.startsWith("-") ? -v : v);
  }, 0n);
  const negative = scaled < 0n;
  const digits = (negative ? -scaled : scaled).toString().padStart(places + 1, "0");
  const int = digits.slice(0, digits.length - places);
  const frac = places ? digits.slice(-places).replace(/0+$/, "") : "";
  return `${negative ? "-" : ""}${int}${frac ? `.${frac}` : ""}`;
}

export function UsageChart(props: {
  orgId: string;
  metrics: UsageMetric[];
  /** One member's usage; absent: the organization's. */
  userId?: string;
  /** Whose usage, in words: "by Ann", "in the organization". */
  by: string;
}) {
  const { orgId, metrics, userId } = props;
  const [metric, setMetric] = useState(metrics[0]!);
  const [days, setDays] = useState<Days | null>(null);
  const [error, setError] = useState<string | null>(null);
  const id = useId();

  useEffect(() => {
    let live = true;
    setDays(null);
    setError(null);
    ok(
      api.GET("/orgs/{orgId}/usage", {
        params: { path: { orgId }, query: { metric: metric.key, groupBy: "day", userId } },
      }),
    ).then(
      (r) => live && setDays({ from: r.from, to: r.to, totals: new Map(r.totals.map((t) => [t.day ?? "", t.total])) }),
      (e) => live && setError(sentence(e)),
    );
    return () => {
      live = false;
    };
  }, [orgId, userId, metric.key]);

  const label = metric.label;
  return (
    <section class="card usage-card" aria-labelledby={`${id}h`}>
      <div class="events-head">
        <h3 id={`${id}h`}>Usage, last 30 days</h3>
        {metrics.length > 1 && (
          <div class="field">
            <label for={`${id}m`}>Metric</label>
            <select
              id={`${id}m`}
              value={metric.key}
              onChange={(e) => setMetric(metrics.find((m) => m.key === e.currentTarget.value) ?? metrics[0]!)}
            >
              {metrics.map((m) => (
                <option key={m.key} value={m.key}>
                  {m.label}
                </option>
              ))}
            </select>
          </div>
        )}
      </div>
      <ErrorText message={error} />
      {days === null ? !error && <p class="muted">Loading…</p> : <Bars days={days} label={label} by={props.by} id={id} />}
    </section>
  );
}

function Bars({ days, label, by, id }: { days: Days; label: string; by: string; id: string }) {
  const all = daysBetween(days.from, days.to);
  const used = all.filter((d) => days.totals.has(d));
  const span = `${dayLabel(days.from)} to ${dayLabel(days.to)}`;
  if (used.length === 0) {
    return (
      <p class="usage-total">
        {label}: none used from {span}.
      </p>
    );
  }
  const total = sum(used.map((d) => days.totals.get(d)!));
  const values = all.map((d) => Number(days.totals.get(d) ?? "0"));
  const top = Math.max(0, ...values);
  const bottom = Math.min(0, ...values);
  const range = top - bottom || 1;
  // 10 units a day across, 100 up: stretched to the box by CSS (the labels are HTML, so
  // they are not stretched with it).
  const H = 100;
  const zero = (top / range) * H;
  const peak = all[values.indexOf(Math.max(...values))]!;
  return (
    <>
      <p class="usage-total">
        {label}: <strong>{amount(total)}</strong> from {span}
      </p>
      <div class="usage-chart">
        <span class="usage-top" aria-hidden="true">
          {amount(days.totals.get(peak) ?? "0")}
        </span>
        <svg
          viewBox={`0 0 ${all.length * 10} ${H}`}
          preserveAspectRatio="none"
          role="img"
          aria-labelledby={`${id}t ${id}d`}
        >
          <title id={`${id}t`}>
            {label} used per day {by}, {span}
          </title>
          <desc id={`${id}d`}>
            {`${amount(total)} in all over ${used.length} ${used.length === 1 ? "day" : "days"} with usage; the most, ${amount(days.totals.get(peak) ?? "0")}, on ${dayLabel(peak)}.`}
          </desc>
          <line class="usage-zero" x1="0" x2={all.length * 10} y1={zero} y2={zero} />
          {values.map((v, i) => {
            const h = (Math.abs(v) / range) * H;
            return v === 0 ? null : (
              <rect key={all[i]} class={v < 0 ? "credit" : undefined} x={i * 10 + 1.5} width="7" y={v > 0 ? zero - h : zero} height={Math.max(h, 0.8)} />
            );
          })}
        </svg>
        <span class="usage-axis" aria-hidden="true">
          <span>{dayLabel(days.from)}</span>
          <span>{dayLabel(days.to)}</span>
        </span>
      </div>
      <details class="usage-table">
        <summary>Show the days as a table</summary>
        <table>
          <caption class="sr-only">
            {label} used per day {by}, {span}, the days with usage
          </caption>
          <thead>
            <tr>
              <th scope="col">Day (UTC)</th>
              <th scope="col" class="num">
                {label}
              </th>
            </tr>
          </thead>
          <tbody>
            {used.map((d) => (
              <tr key={d}>
                <td>
                  <time dateTime={d}>{dayLabel(d)}</time>
                </td>
                <td class="num">{amount(days.totals.get(d)!)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </details>
    </>
  );
}
