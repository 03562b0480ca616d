// Settings: renaming the organization (owners and admins; refusals in words; the Activity tab
// tells it), and deleting it (owners only, confirmed by typing its name): afterwards it is gone
// for its members and its invitations. State a test is not about is set up through the API.
import { test } from "node:test";
import assert from "node:assert/strict";
import type { Page } from "playwright-core";
import { apiAs, BASE, checkA11y, newPage, orgOf, pageFor, person, shot, unique, useBrowser, type Person } from "./harness";
import { addMember, inviteByEmail, inviteLink, SAYS } from "./invite-helpers";

const browser = useBrowser();

const NOT_FOUND = "You don't have access to this organization, or it no longer exists.";

/** Calls the API as `who`; the status and body, whatever they are. */
async function call(who: Person, method: string, path: string): Promise<{ status: number; body: any }> {
  const { token } = (await (
    await fetch(`${BASE}/_local/dev-token`, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ sub: who.sub, email: who.email, name: who.name, emailVerified: true }),
    })
  ).json()) as { token: string };
  const response = await fetch(`${BASE}${path}`, { method, headers: { Authorization: `Bearer ${token}` } });
  const text = await response.text();
  return { status: response.status, body: text ? JSON.parse(text) : undefined };
}

const nameOf = async (who: Person, orgId: string) =>
  (await apiAs<{ org: { name: string } }>(who, "GET", `/orgs/${orgId}`)).org.name;

const heading = (page: Page) => page.locator("main h1");

test("owners and admins rename the organization; refusals change nothing; members have no Settings", async () => {
  const [alice, bob, carol] = [person("alice"), person("bob"), person("carol")];
  const first = unique("Settings Co");
  const org = await orgOf(alice, first);
  await addMember(alice, org, bob, "admin");
  await addMember(alice, org, carol, "member");

  const page = await pageFor(browser(), alice, `/o/${org}/settings`);
  const input = page.getByLabel("Organization name");
  await input.waitFor();
  assert.equal(await input.inputValue(), first);
  assert.equal(await page.getByRole("link", { name: "Settings" }).getAttribute("aria-current"), "page");
  await page.getByRole("heading", { name: "Danger zone" }).waitFor();
  await checkA11y(page, "settings");
  await shot(page, "settings");

  // Held back by the network: nothing is shown as saved until the API answers.
  const renamed = unique("Settings Inc.");
  let release!: () => void;
  const held = new Promise<void>((r) => (release = r));
  await page.route(`**/orgs/${org}`, async (route) => {
    if (route.request().method() === "PATCH") await held;
    await route.continue();
  });
  await input.fill(renamed);
  await page.getByRole("button", { name: "Save name" }).click();
  await page.getByRole("button", { name: "Saving…" }).waitFor();
  assert.equal(await page.getByRole("status").getByText("Saved.").count(), 0, "nothing shown as saved yet");
  assert.equal(await heading(page).textContent(), first);
  release();
  await page.getByRole("status").getByText("Saved.").waitFor();
  await page.unroute(`**/orgs/${org}`);
  await page.getByRole("heading", { level: 1, name: renamed }).waitFor();
  assert.equal(await nameOf(alice, org), renamed);
  await shot(page, "settings-saved");

  // Refusals: a control character and a name of spaces are refused in words; a blank one is
  // not even sent (required). The name stays.
  await input.fill("bad\u0007name");
  await page.getByRole("button", { name: "Save name" }).click();
  await page.getByRole("alert").getByText("That was not accepted: name must not contain control characters").waitFor();
  assert.equal(await page.getByRole("status").getByText("Saved.").count(), 0);
  await input.fill("   ");
  await page.getByRole("button", { name: "Save name" }).click();
  await page.getByRole("alert").getByText("That was not accepted: name must not be blank").waitFor();
  await checkA11y(page, "settings with a refusal");
  await shot(page, "settings-refusal");
  await input.fill("");
  await page.getByRole("button", { name: "Save name" }).click();
  assert.equal(await input.evaluate((el) => (el as HTMLInputElement).validity.valueMissing), true);
  assert.equal(await heading(page).textContent(), renamed);
  assert.equal(await nameOf(alice, org), renamed);
  await page.setViewportSize({ width: 390, height: 860 });
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - innerWidth);
  assert.ok(overflow <= 0, `no sideways scrolling (${overflow} px too wide)`);
  await shot(page, "settings-mobile");
  await page.setViewportSize({ width: 1280, height: 860 });

  // The Activity tab tells it, with metadata changes made meanwhile.
  await apiAs(alice, "PATCH", `/orgs/${org}`, { metadata: { plan: "pro" } });
  await apiAs(alice, "PATCH", `/orgs/${org}/members/${carol.sub}`, { metadata: { team: "apollo" } });
  await page.getByRole("link", { name: "Activity" }).click();
  const list = page.getByRole("list", { name: "Activity, newest first" });
  await list.waitFor();
  const expected = [
    "Alice updated Carol's metadata",
    "Alice updated the organization's metadata",
    `Alice renamed the organization from “${first}” to “${renamed}”`,
  ];
  let lines: string[] = [];
  for (let i = 0; i < 30; i++) {
    lines = (await list.getByRole("listitem").locator(".what").allTextContents()).slice(0, 3).map((s) => s.trim());
    if (JSON.stringify(lines) === JSON.stringify(expected)) break;
    await page.waitForTimeout(100);
  }
  assert.deepEqual(lines, expected);

  // An admin renames too, and is offered no deletion.
  const admin = await pageFor(browser(), bob, `/o/${org}/settings`);
  const third = unique("Settings Group");
  await admin.getByLabel("Organization name").fill(third);
  await admin.getByRole("button", { name: "Save name" }).click();
  await admin.getByRole("status").getByText("Saved.").waitFor();
  await admin.getByRole("heading", { level: 1, name: third }).waitFor();
  assert.equal(await nameOf(alice, org), third);
  assert.equal(await admin.getByRole("heading", { name: "Danger zone" }).count(), 0);
  assert.equal(await admin.getByRole("button", { name: "Delete organization" }).count(), 0);

  // A member has no Settings tab; its address shows the members list, and no settings.
  const member = await pageFor(browser(), carol, `/o/${org}/members`);
  await member.locator("table.roster").waitFor();
  assert.equal(await member.getByRole("link", { name: "Settings" }).count(), 0);
  await member.goto(`/o/${org}/settings`);
  await member.locator("table.roster").waitFor();
  assert.equal(await member.getByLabel("Organization name").count(), 0);
  assert.equal(await member.getByRole("button", { name: "Save name" }).count(), 0);
});

test("an owner deletes the organization after typing its name; it is gone for everyone", async () => {
  const [olga, adam, mia, nina] = [person("olga"), person("adam"), person("mia"), person("nina")];
  const name = unique("Doomed Co");
  const org = await orgOf(olga, name);
  await addMember(olga, org, adam, "admin");
  await addMember(olga, org, mia, "member");
  const link = await inviteLink(olga, org, { role: "member" });
  const invitation = await inviteByEmail(olga, org, nina);

  // An admin sees no deletion.
  const admin = await pageFor(browser(), adam, `/o/${org}/settings`);
  await admin.getByLabel("Organization name").waitFor();
  assert.equal(await admin.getByRole("button", { name: "Delete organization" }).count(), 0);
  assert.equal(await admin.getByRole("heading", { name: "Danger zone" }).count(), 0);

  // A member has the organization open meanwhile.
  const member = await pageFor(browser(), mia, `/o/${org}/members`);
  await member.locator("table.roster").waitFor();

  const page = await pageFor(browser(), olga, `/o/${org}/settings`);
  const open = page.getByRole("button", { name: "Delete organization" });
  await open.click();
  const dialog = page.getByRole("dialog", { name: `Delete ${name}?` });
  await dialog.getByText("Every member loses access at once.").waitFor();
  await dialog.getByText("Pending invitations and invite links stop working.").waitFor();
  await dialog.getByText("removed permanently").waitFor();
  const confirmInput = dialog.getByLabel("Type the organization's name to confirm");
  const confirm = dialog.getByRole("button", { name: "Yes, delete organization" });
  assert.ok(await confirmInput.evaluate((el) => el === document.activeElement), "focus starts in the name field");
  assert.equal(await confirm.isDisabled(), true);

  // Escape closes it, focus back on its button; nothing happened.
  await page.keyboard.press("Escape");
  await dialog.waitFor({ state: "hidden" });
  // The dialog leaves the page first, then its cleanup puts focus back: wait for it.
  const opener = await open.elementHandle();
  await page
    .waitForFunction((el) => el === document.activeElement, opener, { timeout: 2000 })
    .catch(() => assert.fail("focus back on Delete organization"));
  await open.click();

  await confirmInput.fill(name.slice(0, Math.ceil(name.length / 2)));
  assert.equal(await confirm.isDisabled(), true, "half the name");
  await checkA11y(page, "delete dialog");
  await shot(page, "settings-delete-dialog");
  for (const wrong of [name.toUpperCase(), `${name}x`, name.slice(1)]) {
    await confirmInput.fill(wrong);
    assert.equal(await confirm.isDisabled(), true, `not the name: ${wrong}`);
  }
  assert.equal((await call(olga, "GET", `/orgs/${org}`)).status, 200, "nothing deleted yet");
  await confirmInput.fill(name);
  assert.equal(await confirm.isDisabled(), false);
  await confirm.click();

  // The organizations list, without it, saying so.
  await page.getByRole("heading", { name: "Your organizations" }).waitFor();
  await page.getByRole("status").getByText("The organization was deleted.").waitFor();
  assert.equal(new URL(page.url()).pathname + new URL(page.url()).search, "/");
  await page.getByText("You don't belong to an organization yet").waitFor();
  assert.equal(await page.getByRole("link", { name }).count(), 0);
  await checkA11y(page, "organizations after a deletion");
  await shot(page, "organizations-after-delete");
  assert.equal((await call(olga, "GET", `/orgs/${org}`)).status, 404);
  const listed = (await call(mia, "GET", "/orgs")).body.orgs as { org: { id: string } }[];
  assert.ok(!listed.some((o) => o.org.id === org), "not listed for a member");

  // The member's open page, reloaded: unavailable, in words.
  await member.reload();
  await member.getByRole("heading", { level: 1, name: "Organization unavailable" }).waitFor();
  await member.getByRole("alert").getByText(NOT_FOUND).waitFor();
  await member.getByRole("link", { name: "Go to your organizations" }).waitFor();

  // Its invite link and its emailed invitation no longer work.
  const visitor = await newPage(browser());
  for (const path of [link, invitation]) {
    await visitor.goto(path);
    await visitor.getByRole("heading", { level: 1, name: "Invitation no longer valid" }).waitFor();
    await visitor.getByRole("alert").getByText(SAYS.notFound).waitFor();
  }
});
