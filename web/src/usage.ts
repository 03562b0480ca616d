// Usage per member (API.md "Usage per member") as the app shows it, to admins and owners
// only (the API's rule for reading totals): the metrics the deployment names in
// /config.json (config.ts), handed to the organization's tabs in their OrgContext, and each
// member's total of the first over the last 30 days in the members table. The days of one
// member or of the whole organization, as a chart, are pages/usage/UsageChart, loaded with
// the pages that show it (which import nothing from here, so that this stays in main.js).
import { useEffect, useState } from "preact/hooks";
import { api, ok, type Role } from "./api/client";
import { config, type UsageMetric } from "./config";
import { canInvite } from "./roles";

/** The metrics to show: none when the deployment names none, or when `role` may not read
 * totals (admins and owners may; the same rank as inviting). */
export function usageMetrics(role: Role): UsageMetric[] {
  return canInvite(role) ? (config().usage?.metrics ?? []) : [];
}

export type MemberUsage = { metric: UsageMetric; totals: Map<string, string> };

/** Each member's total of the first metric over the 30 days ending today (UTC), by user id,
 * in one request (the API's default range): null while unread, when there is no metric to
 * show (`usageMetrics`), when nobody used any, or when the read failed (the column is an
 * addition to the table, which stands without it). */
export function useMemberUsage(orgId: string, metrics: UsageMetric[]): MemberUsage | null {
  const metric = metrics[0];
  const [usage, setUsage] = useState<MemberUsage | null>(null);
  useEffect(() => {
    setUsage(null);
    if (!metric) return;
    let live = true;
    ok(api.GET("/orgs/{orgId}/usage", { params: { path: { orgId }, query: { metric: metric.key, groupBy: "member" } } })).then(
      ({ totals }) => {
        if (!live || totals.length === 0) return;
        setUsage({ metric, totals: new Map(totals.map((t) => [t.userId ?? "", t.total])) });
      },
      () => undefined,
    );
    return () => {
      live = false;
    };
  }, [orgId, metric?.key]);
  return usage;
}
