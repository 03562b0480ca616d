// Search and filters on the server (API.md "Search and filters"), as a person uses them, in an
// organization with more members than one page of the table holds: the members search box
// (debounced, kept in the address across a reload), a status filter that finds a member
// beyond the first page, the sort, the invitations' filters, the Activity tab's kind of
// change and time range with names looked up in one call, and a member's own events.
import { test } from "node:test";
import assert from "node:assert/strict";
import type { Page, Request } from "playwright-core";
import { apiAs, checkA11y, newPage, orgOf, pageFor, person, shot, signIn, useBrowser, type Person } from "./harness";
import { addMember, inviteByEmail } from "./invite-helpers";

const browser = useBrowser();

/** `people` join `orgId` with `role` through one invite link (accepted in parallel batches). */
async function join(owner: Person, orgId: string, role: string, people: Person[]): Promise<void> {
  const { link } = await apiAs<{ link: { token: string } }>(owner, "POST", `/orgs/${orgId}/invite-links`, {
    role,
    maxUses: people.length,
  });
  for (let i = 0; i < people.length; i += 20) {
    await Promise.all(people.slice(i, i + 20).map((p) => apiAs(p, "POST", "/invitations/accept", { token: link.token })));
  }
}

/** The API requests the page makes while `action` runs and the page settles after it. */
async function requestsDuring(page: Page, action: () => Promise<void>, matching: RegExp): Promise<URL[]> {
  const seen: URL[] = [];
  const listener = (r: Request) => {
    const url = new URL(r.url());
    if (matching.test(url.pathname)) seen.push(url);
  };
  page.on("request", listener);
  try {
    await action();
    await page.waitForLoadState("networkidle");
  } finally {
    page.off("request", listener);
  }
  return seen;
}

const rows = (page: Page) => page.locator("table.roster tbody tr:not(.group)");
/** The names (or, for invitations, addresses) of the rows once the table is not busy. */
async function shown(page: Page): Promise<string[]> {
  await page.locator("table.roster[aria-busy=false]").waitFor();
  return rows(page).locator("td.person .name").allTextContents();
}
/** Waits until the rows are `want` (in order, unless `anyOrder`), or fails saying what they are. */
async function rowsAre(page: Page, want: string[], anyOrder = false): Promise<void> {
  let got: string[] = [];
  if (anyOrder) want = [...want].sort();
  for (let i = 0; i < 50; i++) {
    got = await shown(page);
    if (anyOrder) got.sort();
    if (JSON.stringify(got) === JSON.stringify(want)) return;
    await page.waitForTimeout(100);
  }
  assert.deepEqual(got, want);
}

test("members: search by name, kept in the address across a reload; a suspended member beyond the first page; sort", async () => {
  const sue = person("sue");
  const org = await orgOf(sue);
  // 70 members named Crowd00…Crowd69, more than the table's page of 50, then Annabel, then
  // Zed, who joins last and is suspended: by name, Zed comes after the first page.
  const crowd = Array.from({ length: 70 }, (_, i) => person(`crowd${String(i).padStart(2, "0")}`));
  const [annabel, zed] = [person("annabel"), person("zed")];
  await join(sue, org, "member", crowd);
  await join(sue, org, "viewer", [annabel]);
  await join(sue, org, "member", [zed]);
  await apiAs(sue, "PATCH", `/orgs/${org}/members/${zed.sub}`, { status: "suspended" });

  const page = await pageFor(browser(), sue, `/o/${org}/members`);
  await rows(page).nth(49).waitFor();
  assert.equal(await rows(page).count(), 50, "one page of 50");
  await page.getByRole("button", { name: "Load more" }).waitFor();

  // Typed key by key: one search once typing pauses, not one per key.
  const search = page.getByLabel("Search members");
  const typed = await requestsDuring(
    page,
    async () => {
      await search.focus();
      await page.keyboard.type("ann", { delay: 60 });
      await rowsAre(page, ["Annabel"]);
    },
    /\/members$/,
  );
  const searches = typed.filter((u) => u.searchParams.has("q"));
  assert.deepEqual(
    searches.map((u) => u.searchParams.get("q")),
    ["ann"],
    `one members search, for the whole word typed: ${typed.map((u) => u.search).join(" ")}`,
  );
  assert.equal(new URL(page.url()).searchParams.get("q"), "ann", "the search is in the address");
  await page.getByRole("status").filter({ hasText: "1 member matches “ann”" }).waitFor({ state: "attached" });
  await checkA11y(page, "members searched");
  await shot(page, "search-members");

  // A reload (or the address shared) shows the same search.
  await page.reload();
  await rowsAre(page, ["Annabel"]);
  assert.equal(await page.getByLabel("Search members").inputValue(), "ann");
  assert.equal(await page.getByRole("button", { name: "Load more" }).count(), 0);

  // Nothing found: said in words, naming the search.
  await search.fill("nobody-here");
  await page.getByText("No members or invitations match “nobody-here”.").waitFor();
  assert.equal(await rows(page).count(), 0);
  await checkA11y(page, "members search (nothing found)");
  await shot(page, "search-members-none");

  // Cleared, then Suspended: Zed, who is beyond the first page by name.
  await search.fill("");
  await rows(page).nth(49).waitFor();
  await page.getByLabel("Status", { exact: true }).selectOption("suspended");
  await rowsAre(page, ["Zed"]);
  assert.equal(new URL(page.url()).searchParams.get("status"), "suspended");
  assert.equal(new URL(page.url()).searchParams.has("q"), false);
  await page.getByRole("status").filter({ hasText: "1 member matches these filters" }).waitFor({ state: "attached" });
  await shot(page, "search-members-suspended");

  // A role filter with the search: Annabel is a viewer, Zed a member.
  await page.getByLabel("Status", { exact: true }).selectOption("");
  await page.getByLabel("Role", { exact: true }).selectOption("viewer");
  await rowsAre(page, ["Annabel"]);
  await page.getByLabel("Role", { exact: true }).selectOption("");

  // Newest first: Zed joined last; the sort is in the address too.
  await page.getByLabel("Sort").selectOption({ label: "Newest first" });
  await page.waitForURL((url) => url.searchParams.get("sort") === "joinedAt" && url.searchParams.get("order") === "desc");
  await page.locator("table.roster[aria-busy=false]").waitFor();
  for (let i = 0; i < 50 && (await rows(page).first().locator(".name").textContent()) !== "Zed"; i++) await page.waitForTimeout(100);
  assert.equal(await rows(page).first().locator(".name").textContent(), "Zed");
  assert.equal(await rows(page).count(), 50);
  // Load more goes on in the same order: 73 members in all, each once.
  await page.getByRole("button", { name: "Load more" }).click();
  await rows(page).nth(72).waitFor();
  assert.equal(await page.getByRole("button", { name: "Load more" }).count(), 0);
  const names = await shown(page);
  assert.equal(new Set(names).size, 73, "every member once");
  assert.equal(names.at(-1), "Sue", "the owner joined first");
  // A search comes best match first: the sort says so.
  await search.fill("zed");
  await rowsAre(page, ["Zed"]);
  assert.equal(await page.getByLabel("Sort").isDisabled(), true);
  assert.equal(await page.getByLabel("Sort").inputValue(), "Best match");
  await checkA11y(page, "members search and sort");

  // On a phone the bar wraps and the page does not scroll sideways.
  await page.setViewportSize({ width: 390, height: 860 });
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - innerWidth);
  assert.ok(overflow <= 0, `no sideways scrolling (${overflow} px too wide)`);
  await checkA11y(page, "members search (390 px)");
  await shot(page, "search-members-390");
});

test("invitations: search by address, status and email delivery", async () => {
  const uma = person("uma");
  const org = await orgOf(uma);
  const [pat, quinn, rex, ned] = [person("pat"), person("quinn"), person("rex"), person("ned")];
  await inviteByEmail(uma, org, pat);
  await inviteByEmail(uma, org, quinn, "viewer");
  // Rex's invitation is revoked: Ned, an admin, invited him and was made a viewer since.
  await addMember(uma, org, ned, "admin");
  await inviteByEmail(ned, org, rex);
  await apiAs(uma, "PATCH", `/orgs/${org}/members/${ned.sub}`, { role: "viewer" });
  const { invitations } = await apiAs<{ invitations: { email: string; emailDelivery: string }[] }>(
    uma,
    "GET",
    `/orgs/${org}/invitations`,
  );
  const patDelivery = invitations.find((i) => i.email === pat.email)!.emailDelivery;

  const page = await pageFor(browser(), uma, `/o/${org}/members`);
  await rows(page).nth(4).waitFor(); // 3 invitations, Uma and Ned

  // A search by address finds the invitation (and no member).
  await page.getByLabel("Search members").fill("quinn");
  await rowsAre(page, [quinn.email]);

  await page.getByLabel("Search members").fill("");
  await page.getByLabel("Status", { exact: true }).selectOption("revoked");
  await rowsAre(page, [rex.email]);
  await page.getByLabel("Status", { exact: true }).selectOption("pending");
  await rowsAre(page, [pat.email, quinn.email], true);

  // Email delivery, for invitations: as the API says Pat's went, and one that none did.
  const email = page.getByLabel("Email", { exact: true });
  const label = { queued: "Sending", sent: "Sent", delivered: "Delivered" }[patDelivery] ?? patDelivery;
  await email.selectOption({ label });
  await page.locator("table.roster[aria-busy=false]").waitFor();
  assert.ok((await shown(page)).includes(pat.email), `Pat's invitation (${patDelivery}) is listed`);
  assert.equal(new URL(page.url()).searchParams.get("delivery"), patDelivery);
  await checkA11y(page, "invitations filtered");
  await shot(page, "search-invitations");
  await email.selectOption({ label: "Bounced" });
  await page.getByText("No one matches these filters.").waitFor();
  await checkA11y(page, "invitations filtered (none)");
  await shot(page, "search-invitations-none");
  // Back to members: the email filter goes (it narrows invitations only).
  await page.getByLabel("Status", { exact: true }).selectOption("joined");
  await rowsAre(page, ["Ned", "Uma"]);
  assert.equal(new URL(page.url()).searchParams.has("delivery"), false);
  assert.equal(await page.getByLabel("Email", { exact: true }).count(), 0);
});

test("activity: kind of change and time range; names in one call; a member's page lists what they did and what was done to them", async () => {
  const [vic, wes, xia, yan] = [person("vic"), person("wes"), person("xia"), person("yan")];
  const org = await orgOf(vic);
  await addMember(vic, org, wes);
  await addMember(vic, org, xia);
  await apiAs(vic, "PATCH", `/orgs/${org}/members/${wes.sub}`, { role: "admin" });
  await apiAs(wes, "POST", `/orgs/${org}/invite-links`, { role: "member", label: "Friends" });
  await apiAs(wes, "PATCH", `/orgs/${org}/members/${xia.sub}`, { status: "suspended" });
  await inviteByEmail(wes, org, yan);

  // Straight to the Activity tab: the names of the people its events name come in one call.
  const page = await newPage(browser());
  const log = page.getByRole("list", { name: "Activity, newest first" });
  const lines = async () => (await log.locator(".what").allTextContents()).map((s) => s.trim());
  const requests = await requestsDuring(
    page,
    async () => {
      await signIn(page, vic, `/o/${org}/activity`);
      await log.waitFor();
    },
    /^\/orgs\/[^/]+\/members(\/|$)/,
  );
  const lookUps = requests.filter((u) => u.searchParams.has("userId") || u.pathname.split("/").length > 4);
  assert.equal(lookUps.length, 1, `names in one call: ${lookUps.map((u) => u.pathname + u.search).join(" ")}`);
  assert.ok(lookUps[0]!.searchParams.getAll("userId").length >= 3, "by their ids");
  const all = await lines();
  assert.ok(all.includes("Wes suspended Xia"), all.join(" | "));
  // (An address holds its user id before the @.)
  const ids = new RegExp(`(${[vic, wes, xia].map((p) => p.sub).join("|")})(?!@)`);
  assert.ok(all.every((l) => !ids.test(l)), `names, not ids: ${all.join(" | ")}`);

  const kind = page.getByLabel("Kind of change");
  await kind.selectOption({ label: "Invite links" });
  await page.locator("ol.activity-log[aria-busy=false]").waitFor();
  assert.deepEqual(await lines(), ["Wes created the invite link “Friends” to join as a member (unlimited uses)"]);
  await kind.selectOption({ label: "Members" });
  await page.locator("ol.activity-log[aria-busy=false]").waitFor();
  assert.deepEqual(await lines(), ["Wes suspended Xia", "Vic changed Wes's role from member to admin"]);
  await checkA11y(page, "activity filtered");
  await shot(page, "search-activity");
  // Up to yesterday: nothing (it all happened today).
  const yesterday = new Date(Date.now() - 86_400_000);
  const day = `${yesterday.getFullYear()}-${String(yesterday.getMonth() + 1).padStart(2, "0")}-${String(yesterday.getDate()).padStart(2, "0")}`;
  await page.getByLabel("To", { exact: true }).fill(day);
  await page.getByText("No activity matches these filters.").waitFor();
  await checkA11y(page, "activity filtered (none)");
  await shot(page, "search-activity-none");
  await page.getByRole("button", { name: "Show all" }).click();
  await page.locator("ol.activity-log[aria-busy=false]").waitFor();
  assert.deepEqual(await lines(), all);

  // Wes's page: what Wes did (the link, the suspension, the invitation) and what was done to
  // Wes (invited, the role change), Wes's own join once.
  await page.goto(`/o/${org}/members/${encodeURIComponent(wes.sub)}`);
  const events = page.locator("ol.member-events li span");
  await events.first().waitFor();
  const mine = (await events.allTextContents()).map((s) => s.trim());
  assert.deepEqual(mine, [
    `Wes invited ${yan.email} as a member`,
    "Wes suspended Xia",
    "Wes created the invite link “Friends” to join as a member (unlimited uses)",
    "Vic changed Wes's role from member to admin",
    "Wes accepted the invitation and joined as a member",
  ]);
  await page.getByLabel("Kind of change").selectOption({ label: "Members" });
  for (let i = 0; i < 50 && (await events.count()) !== 2; i++) await page.waitForTimeout(100);
  assert.deepEqual((await events.allTextContents()).map((s) => s.trim()), ["Wes suspended Xia", "Vic changed Wes's role from member to admin"]);
  await page.getByLabel("Kind of change").selectOption({ label: "Groups" });
  await page.getByText("No changes of this kind by or about Wes.").waitFor();
  await checkA11y(page, "member details, activity filtered");
  await shot(page, "search-member-activity");
});
