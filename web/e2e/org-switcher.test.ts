// The organization switcher beside an organization's name, used by keyboard and pointer: the
// person's organizations with their role (a suspended one marked and not openable), Settings
// for admins and owners, Create organization; switching keeps the tab where the other
// organization has it for the person, else opens Members.
import { test } from "node:test";
import assert from "node:assert/strict";
import type { Page } from "playwright-core";
import { apiAs, checkA11y, newPage, orgOf, pageFor, person, shot, signIn, unique, useBrowser } from "./harness";
import { addMember } from "./invite-helpers";

const browser = useBrowser();

const focused = (page: Page) =>
  page.evaluate(() => {
    const at = document.activeElement as HTMLElement | null;
    return at?.getAttribute("aria-label") ?? at?.innerText.replace(/\s+/g, " ").trim() ?? "";
  });

async function focusOn(page: Page, what: RegExp | string): Promise<void> {
  for (let i = 0; i < 40; i++) {
    const at = await focused(page);
    if (typeof what === "string" ? at === what : what.test(at)) return;
    await page.waitForTimeout(50);
  }
  assert.fail(`focus on ${what}, not on ${await focused(page)}`);
}

test("the switcher lists the organizations with their role, keeps the tab where it can, and works by keyboard", async () => {
  const [zoe, dan] = [person("zoe"), person("dan")];
  const names = { alpha: unique("Alpha"), beta: unique("Beta"), gamma: unique("Gamma"), delta: unique("Delta") };
  const alpha = await orgOf(zoe, names.alpha);
  const [beta, gamma, delta] = await Promise.all([orgOf(dan, names.beta), orgOf(dan, names.gamma), orgOf(dan, names.delta)]);
  await addMember(dan, beta, zoe, "admin");
  await addMember(dan, gamma, zoe, "member");
  await addMember(dan, delta, zoe, "viewer");
  await apiAs(dan, "PATCH", `/orgs/${delta}/members/${zoe.sub}`, { status: "suspended" });

  const page = await pageFor(browser(), zoe, `/o/${alpha}/links`);
  await page.getByRole("heading", { level: 1, name: names.alpha }).waitFor();
  const button = page.getByRole("button", { name: "Switch organization" });
  const menu = page.getByRole("menu", { name: "Switch organization" });
  assert.equal(await button.getAttribute("aria-haspopup"), "menu");
  assert.equal(await button.getAttribute("aria-expanded"), "false");

  // Enter opens it on the first organization.
  await button.focus();
  await page.keyboard.press("Enter");
  await menu.waitFor();
  assert.equal(await button.getAttribute("aria-expanded"), "true");
  const orgs = menu.getByRole("menuitemradio");
  await orgs.nth(3).waitFor();
  const entries = Object.fromEntries(
    await orgs.evaluateAll((items) =>
      items.map((el) => [
        el.querySelector(".org-name")?.textContent ?? "",
        {
          role: el.querySelector(".org-role")?.textContent ?? "",
          checked: el.getAttribute("aria-checked"),
          disabled: el.getAttribute("aria-disabled"),
        },
      ]),
    ),
  );
  assert.deepEqual(entries[names.alpha], { role: "Owner", checked: "true", disabled: null });
  assert.deepEqual(entries[names.beta], { role: "Admin", checked: "false", disabled: null });
  assert.deepEqual(entries[names.gamma], { role: "Member", checked: "false", disabled: null });
  assert.deepEqual(entries[names.delta], { role: "Suspended", checked: "false", disabled: "true" });
  // Its accessible name says the role, and for the suspended one why it does not open.
  await menu.getByRole("menuitemradio", { name: `${names.beta}, Admin` }).waitFor();
  await menu.getByRole("menuitemradio", { name: new RegExp(`^${names.delta}, Suspended: you cannot open it`) }).waitFor();
  assert.deepEqual(await menu.getByRole("menuitem").allTextContents(), ["Settings", "Create organization"]);
  await focusOn(page, new RegExp(`^${names.alpha}|^${names.beta}|^${names.gamma}|^${names.delta}`));
  await checkA11y(page, "organization switcher open");
  await shot(page, "org-switcher");

  // End, Home, wrapping arrows, Escape back to the button.
  await page.keyboard.press("End");
  await focusOn(page, "Create organization");
  await page.keyboard.press("ArrowDown");
  const first = (await orgs.first().locator(".org-name").textContent())!;
  await focusOn(page, new RegExp(`^${first}`));
  await page.keyboard.press("ArrowUp");
  await focusOn(page, "Create organization");
  await page.keyboard.press("Home");
  await focusOn(page, new RegExp(`^${first}`));
  await page.keyboard.press("Escape");
  await menu.waitFor({ state: "detached" });
  await focusOn(page, "Switch organization");

  // ↑ opens it on the last item; the suspended organization does not open.
  await page.keyboard.press("ArrowUp");
  await focusOn(page, "Create organization");
  const go = async (name: string) => {
    for (let i = 0; i < 8 && !(await focused(page)).startsWith(name); i++) await page.keyboard.press("ArrowDown");
    await focusOn(page, new RegExp(`^${name}`));
  };
  await go(names.delta);
  await page.keyboard.press("Enter");
  await page.waitForTimeout(200);
  assert.equal(new URL(page.url()).pathname, `/o/${alpha}/links`, "a suspended organization does not open");
  await menu.waitFor();

  // Beta, where Zoe is an admin: the same tab there.
  await go(names.beta);
  await page.keyboard.press("Enter");
  await page.waitForURL(`**/o/${beta}/links`);
  await page.getByRole("heading", { level: 1, name: names.beta }).waitFor();
  await page.locator(".tabs [aria-current=page]").getByText("Invite links").waitFor();
  await focusOn(page, names.beta);

  // Gamma, where Zoe is a member: no Invite links there, so its Members; no Settings offered.
  await button.click();
  await menu.getByRole("menuitemradio", { name: new RegExp(`^${names.gamma}`) }).click();
  await page.waitForURL(`**/o/${gamma}/members`);
  await page.getByRole("heading", { level: 1, name: names.gamma }).waitFor();
  await button.click();
  await menu.waitFor();
  assert.deepEqual(await menu.getByRole("menuitem").allTextContents(), ["Create organization"]);
  // A click elsewhere closes it.
  await page.locator(".tabs").click();
  await menu.waitFor({ state: "detached" });

  // From a member's page, another organization opens on its Members.
  await page.goto(`/o/${alpha}/members/${zoe.sub}`);
  await page.getByRole("heading", { level: 2, name: "Zoe" }).waitFor();
  await button.click();
  await menu.getByRole("menuitemradio", { name: new RegExp(`^${names.beta}`) }).click();
  await page.waitForURL(`**/o/${beta}/members`);
  // The menu offers what Zoe may do in the organization shown, once it has loaded.
  await page.getByRole("heading", { level: 1, name: names.beta }).waitFor();

  // Settings of the organization shown (Zoe is an admin of Beta).
  await button.press("ArrowDown");
  await menu.getByRole("menuitem", { name: "Settings" }).click();
  await page.waitForURL(`**/o/${beta}/settings`);
});

test("Create organization from the switcher: a dialog that starts in the name field", async () => {
  const kai = person("kai");
  const org = await orgOf(kai, unique("First"));
  const page = await newPage(browser(), 390);
  await signIn(page, kai, `/o/${org}/members`);
  const button = page.getByRole("button", { name: "Switch organization" });
  await button.click();
  await page.getByRole("menu").waitFor();
  await shot(page, "org-switcher-mobile");
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - innerWidth);
  assert.ok(overflow <= 0, `the menu fits the screen (${overflow} px too wide)`);
  await page.keyboard.press("End");
  await focusOn(page, "Create organization");
  await page.keyboard.press("Enter");
  const dialog = page.getByRole("dialog", { name: "Create organization" });
  await dialog.waitFor();
  await page.waitForFunction(() => (document.activeElement as HTMLInputElement | null)?.name === "name", null, { timeout: 2000 });
  await checkA11y(page, "create organization dialog");
  await shot(page, "org-switcher-create-mobile");
  // Escape goes back to the button, having created nothing.
  await page.keyboard.press("Escape");
  await dialog.waitFor({ state: "detached" });
  await focusOn(page, "Switch organization");
  const before = (await apiAs<{ orgs: unknown[] }>(kai, "GET", "/orgs")).orgs.length;
  assert.equal(before, 1);

  const name = unique("Second");
  await page.keyboard.press("ArrowUp");
  await focusOn(page, "Create organization");
  await page.keyboard.press("Enter");
  await page.waitForFunction(() => (document.activeElement as HTMLInputElement | null)?.name === "name", null, { timeout: 2000 });
  await page.keyboard.type(name);
  await page.keyboard.press("Enter");
  await page.getByRole("heading", { level: 1, name }).waitFor();
  assert.match(page.url(), /\/o\/org_[^/]+\/members$/);
  assert.equal((await apiAs<{ orgs: unknown[] }>(kai, "GET", "/orgs")).orgs.length, 2);
});
