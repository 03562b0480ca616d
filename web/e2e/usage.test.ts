// Usage per member in the app: a service reports usage (a roster/usage token), and admins
// and owners see each member's 30-day total in the members table, a member's days as a
// chart (with its table) on their page, and the organization's on the Activity page. The
// deployment names its metrics in /config.json (`usage.metrics`); the gateway of these tests
// serves none, so each page here is given one with its dev sign-in.
import { test } from "node:test";
import assert from "node:assert/strict";
import type { Locator, Page } from "playwright-core";
import {
  BASE,
  checkA11y,
  newPage,
  orgOf,
  person,
  serviceToken,
  shot,
  signIn,
  stackNow,
  unique,
  useBrowser,
  type Person,
} from "./harness";
import { addMember } from "./invite-helpers";

const browser = useBrowser();

const CONFIG = {
  signIn: { kind: "local" },
  usage: {
    metrics: [
      { key: "credits", label: "Credits" },
      { key: "storage.gb", label: "Storage (GB)" },
    ],
  },
};

/** A page signed in as `who` whose /config.json names the usage metrics (none: the
 * gateway's own, which names none), and the usage requests it makes. */
async function usagePage(who: Person, next: string, config: object | null = CONFIG, width = 1280) {
  const page = await newPage(browser(), width);
  if (config) await page.route(`${BASE}/config.json`, (route) => route.fulfill({ json: config }));
  const requests: string[] = [];
  page.on("request", (r) => {
    if (new URL(r.url()).pathname.endsWith("/usage")) requests.push(r.url());
  });
  await signIn(page, who, next);
  return { page, requests };
}

type UsageRecord = { id: string; userId: string; metric: string; quantity: number | string; at: string };

async function report(orgId: string, records: UsageRecord[]): Promise<string[]> {
  const response = await fetch(`${BASE}/orgs/${orgId}/usage`, {
    method: "POST",
    headers: { Authorization: `Bearer ${serviceToken("dev-service", "roster/usage")}`, "Content-Type": "application/json" },
    body: JSON.stringify({ records }),
  });
  assert.equal(response.status, 200, await response.clone().text());
  return ((await response.json()) as { results: { status: string }[] }).results.map((r) => r.status);
}

const DAY = new Intl.DateTimeFormat("en-GB", { day: "numeric", month: "short", timeZone: "UTC" });
const dayOf = (at: string) => DAY.format(new Date(at));

/** The members table's usage cells by name, once the column is there. */
async function usageColumn(page: Page): Promise<Record<string, string>> {
  const table = page.locator("table.roster");
  await table.getByRole("columnheader", { name: /Usage \(30 days\)/ }).waitFor();
  const rows = table.locator("tbody.people tr:not(.group)");
  const out: Record<string, string> = {};
  for (let i = 0; i < (await rows.count()); i++) {
    const row = rows.nth(i);
    out[(await row.locator("a.name").textContent())!.trim()] = (await row.locator("td.usage").textContent())!.trim();
  }
  return out;
}

/** Presses Tab (or `key`) until `target` has the focus (at most `presses` times). */
async function tabTo(page: Page, target: Locator, presses = 60, key = "Tab"): Promise<void> {
  for (let i = 0; i < presses; i++) {
    await page.keyboard.press(key);
    if (await target.evaluate((el) => el === document.activeElement)) return;
  }
  assert.fail("not reachable with the keyboard");
}

test("admins see who used what: the members table's 30-day column, a member's days, the organization's total", async () => {
  const alice = person("alice");
  const bob = person("bob");
  const carol = person("carol");
  const dave = person("dave");
  const orgId = await orgOf(alice, unique("Usage Co"));
  await addMember(alice, orgId, bob, "admin");
  await addMember(alice, orgId, carol);
  await addMember(alice, orgId, dave, "viewer");

  // Days as the stack's clock has them (earlier tests may have moved it on).
  const now = await stackNow();
  const at = (daysAgo: number) => new Date(now - daysAgo * 86_400_000 - 60_000).toISOString();
  const run = unique("evt");
  const records: UsageRecord[] = [
    { id: `${run}-1`, userId: alice.sub, metric: "credits", quantity: 12.5, at: at(1) },
    { id: `${run}-2`, userId: alice.sub, metric: "credits", quantity: "7.5", at: at(0) },
    { id: `${run}-3`, userId: carol.sub, metric: "credits", quantity: 1200, at: at(2) },
    { id: `${run}-4`, userId: carol.sub, metric: "credits", quantity: 34.25, at: at(5) },
    { id: `${run}-5`, userId: carol.sub, metric: "credits", quantity: -4.25, at: at(5) },
    { id: `${run}-6`, userId: carol.sub, metric: "storage.gb", quantity: 3, at: at(1) },
  ];
  assert.deepEqual(await report(orgId, records), Array(6).fill("recorded"));
  // Sent again (a retry): counted once.
  assert.deepEqual(await report(orgId, records.slice(0, 2)), ["duplicate", "duplicate"]);

  // The owner: a column of each member's credits over 30 days, in one request.
  const { page, requests } = await usagePage(alice, `/o/${orgId}/members`);
  assert.deepEqual(await usageColumn(page), { Alice: "20", Bob: "0", Carol: "1,230", Dave: "0" });
  await page.getByRole("columnheader", { name: "Usage (30 days) Credits" }).waitFor();
  assert.equal(requests.length, 1, requests.join("\n"));
  assert.match(requests[0]!, /metric=credits&groupBy=member$/);
  await checkA11y(page, "members with usage");
  await shot(page, "usage-members");

  // Carol's page: her credits by day, as a chart and (behind a disclosure reached with the
  // keyboard) as a table.
  await page.getByRole("link", { name: "Carol" }).click();
  const card = page.getByRole("region", { name: "Usage, last 30 days" });
  await card.getByText(/^Credits: 1,230 from /).waitFor();
  const chart = card.getByRole("img", { name: /^Credits used per day by Carol, / });
  await chart.waitFor();
  const described = await chart.evaluate((svg) => svg.querySelector("desc")?.textContent);
  assert.equal(described, `1,230 in all over 2 days with usage; the most, 1,200, on ${dayOf(at(2))}.`);
  // One bar a day with usage (the credit and the use on one day are one bar of their sum).
  assert.equal(await chart.locator("rect").count(), 2);
  await checkA11y(page, "member usage chart");
  await shot(page, "usage-member-chart");
  const summary = card.getByText("Show the days as a table");
  await page.getByRole("heading", { name: "Carol" }).focus();
  await tabTo(page, summary);
  await page.keyboard.press("Enter");
  const rows = card.getByRole("table").getByRole("row");
  await rows.nth(2).waitFor();
  const cells = (await rows.allTextContents()).map((t) => t.trim());
  assert.deepEqual(cells, ["Day (UTC)Credits", `${dayOf(at(5))}30`, `${dayOf(at(2))}1,200`]);
  await checkA11y(page, "member usage table");
  await shot(page, "usage-member-table");
  // The other metric, picked with the keyboard.
  const picker = card.getByLabel("Metric");
  await tabTo(page, picker, 5, "Shift+Tab");
  await page.keyboard.press("ArrowDown");
  await card.getByText(/^Storage \(GB\): 3 from /).waitFor();
  await card.getByRole("img", { name: /^Storage \(GB\) used per day by Carol/ }).waitFor();

  // Bob's page: none of either in 30 days, said in words.
  await page.goto(`/o/${orgId}/members/${encodeURIComponent(bob.sub)}`);
  await page.getByText(/^Credits: none used from /).waitFor();
  assert.equal(await page.locator(".usage-card svg").count(), 0);

  // Activity: the organization's total, by day.
  await page.goto(`/o/${orgId}/activity`);
  const orgCard = page.getByRole("region", { name: "Usage, last 30 days" });
  await orgCard.getByText(/^Credits: 1,250 from /).waitFor();
  await orgCard.getByRole("img", { name: /^Credits used per day in the organization/ }).waitFor();
  assert.equal(await orgCard.locator("svg rect").count(), 4);
  await page.getByRole("list", { name: "Activity, newest first" }).waitFor();
  await checkA11y(page, "activity with usage");
  await shot(page, "usage-activity");

  // On a phone: the member's chart fits the screen.
  const phone = await usagePage(alice, `/o/${orgId}/members/${encodeURIComponent(carol.sub)}`, CONFIG, 390);
  await phone.page.getByRole("img", { name: /^Credits used per day by Carol/ }).waitFor();
  await checkA11y(phone.page, "member usage (390 px)");
  await shot(phone.page, "usage-member-mobile");
  const overflow = await phone.page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  assert.ok(overflow <= 0, `the page is ${overflow}px wider than the screen`);

  // An admin sees the same column.
  const admin = await usagePage(bob, `/o/${orgId}/members`);
  assert.deepEqual(await usageColumn(admin.page), { Alice: "20", Bob: "0", Carol: "1,230", Dave: "0" });

  // A member and a viewer: no column, no usage read, no chart on a member's page.
  for (const who of [carol, dave]) {
    const { page: theirs, requests: asked } = await usagePage(who, `/o/${orgId}/members`);
    await theirs.getByRole("link", { name: "Alice" }).waitFor();
    await theirs.getByRole("link", { name: "Alice" }).click();
    await theirs.getByRole("heading", { name: "Alice" }).waitFor();
    await theirs.goto(`/o/${orgId}/members`);
    await theirs.locator("table.roster tbody.people tr").first().waitFor();
    assert.equal(await theirs.getByRole("columnheader", { name: /Usage/ }).count(), 0);
    assert.equal(await theirs.getByRole("region", { name: "Usage, last 30 days" }).count(), 0);
    assert.deepEqual(asked, [], `${who.name} asked for usage`);
  }
});

test("no usage column where nobody used anything, nor where the deployment names no metric", async () => {
  const erin = person("erin");
  const frank = person("frank");
  const orgId = await orgOf(erin, unique("Quiet Co"));
  await addMember(erin, orgId, frank);

  // Metrics named, nothing reported: one request, no column.
  const { page, requests } = await usagePage(erin, `/o/${orgId}/members`);
  await page.getByRole("link", { name: "Frank" }).waitFor();
  await page.waitForFunction(() => performance.getEntriesByType("resource").some((e) => e.name.includes("/usage")));
  await page.waitForLoadState("networkidle");
  assert.equal(requests.length, 1);
  assert.equal(await page.getByRole("columnheader", { name: /Usage/ }).count(), 0);
  assert.equal(await page.locator("table.roster td.usage").count(), 0);
  await shot(page, "usage-members-none");

  // Usage reported, but the deployment names no metric: no request at all.
  const now = await stackNow();
  const records = [{ id: unique("quiet"), userId: frank.sub, metric: "credits", quantity: 5, at: new Date(now - 60_000).toISOString() }];
  assert.deepEqual(await report(orgId, records), ["recorded"]);
  const plain = await usagePage(erin, `/o/${orgId}/members`, null);
  await plain.page.getByRole("link", { name: "Frank" }).waitFor();
  await plain.page.goto(`/o/${orgId}/activity`);
  await plain.page.getByRole("list", { name: "Activity, newest first" }).waitFor();
  await plain.page.goto(`/o/${orgId}/members/${encodeURIComponent(frank.sub)}`);
  await plain.page.getByRole("heading", { name: "Frank" }).waitFor();
  await plain.page.waitForLoadState("networkidle");
  assert.deepEqual(plain.requests, []);
  assert.equal(await plain.page.getByRole("region", { name: "Usage, last 30 days" }).count(), 0);
});

test("a usage setting that is not valid says what is wrong", async () => {
  for (const [usage, said] of [
    [{ metrics: [] }, "usage.metrics must be a list of 1 to 10 metrics"],
    [{ metrics: [{ key: "Credits" }] }, "usage.metrics[0].key must match [a-z0-9_.-]{1,64}"],
    [{ metrics: [{ key: "credits" }, { key: "credits", label: "Again" }] }, "usage.metrics must not name a metric twice"],
    [{ metrics: [{ key: "credits", unit: "€" }] }, "usage.metrics[0].unit is not a known setting"],
  ] as const) {
    const page = await newPage(browser());
    await page.route(`${BASE}/config.json`, (route) => route.fulfill({ json: { signIn: { kind: "local" }, usage } }));
    await page.goto("/");
    await page.getByRole("heading", { name: "Roster cannot start" }).waitFor();
    assert.equal(await page.getByRole("alert").textContent(), `The app's settings are not valid: ${said}.`);
    await page.context().close();
  }
});
