// The invitations in the members table, as an owner uses them: a declined invitation shown as
// declined until it expires, a revoked one with why (its inviter was suspended), the status
// filter for invitations, Resend offered where the API resends (not on a declined one), and
// the bulk bar: select several, Resend selected or Revoke selected (confirmed), each result in
// words. State a test is not about is set up through the API.
import { test } from "node:test";
import assert from "node:assert/strict";
import type { Page } from "playwright-core";
import { advanceClock, apiAs, checkA11y, mailbox, orgOf, pageFor, person, shot, useBrowser, type Person } from "./harness";
import { addMember, inviteByEmail, nextMail, tokenOf } from "./invite-helpers";

const browser = useBrowser();

const rowOf = (page: Page, text: string) => page.locator("table.roster tbody tr").filter({ hasText: text });
const invitationRows = (page: Page) => page.locator("table.roster tbody.invitations tr.invitation");

/** The invitation ids of `orgId` by address. */
async function invitationIds(owner: Person, orgId: string): Promise<Map<string, { id: string; status: string }>> {
  const { invitations } = await apiAs<{ invitations: { id: string; email: string; status: string }[] }>(
    owner,
    "GET",
    `/orgs/${orgId}/invitations?limit=100`,
  );
  return new Map(invitations.map((i) => [i.email, { id: i.id, status: i.status }]));
}

/** Focus is on the element named `label` (its aria-label or its text), within two seconds. */
async function focusOn(page: Page, label: string): Promise<void> {
  await page
    .waitForFunction(
      (name) => {
        const at = document.activeElement;
        return at?.getAttribute("aria-label") === name || at?.textContent?.trim() === name;
      },
      label,
      { timeout: 2000 },
    )
    .catch(async () => {
      const at = await page.evaluate(() => document.activeElement?.outerHTML.slice(0, 160) ?? "nothing");
      assert.fail(`focus on ${label}, not on ${at}`);
    });
}

test("declined and revoked invitations say so, the status filter picks invitations, and Resend is offered only where it works", async () => {
  const [olive, adam] = [person("olive"), person("adam")];
  const [expiring, declining, fromAdam, waiting] = [person("exp"), person("dec"), person("rev"), person("pen")];
  const org = await orgOf(olive);
  // An invitation that expires (made before the clock moves; the others after it).
  await inviteByEmail(olive, org, expiring, "viewer", 1);
  await advanceClock(2 * 3600);
  await addMember(olive, org, adam, "admin");
  const declined = await inviteByEmail(olive, org, declining, "member");
  await apiAs(declining, "POST", "/invitations/decline", { token: tokenOf(declined) });
  await inviteByEmail(adam, org, fromAdam, "member");
  await apiAs(olive, "PATCH", `/orgs/${org}/members/${adam.sub}`, { status: "suspended" });
  await inviteByEmail(olive, org, waiting, "admin");

  const page = await pageFor(browser(), olive, `/o/${org}/members`);
  await invitationRows(page).nth(3).waitFor();
  const badge = (who: Person) => rowOf(page, who.email).locator("td.optional .badge");
  assert.equal(await badge(declining).textContent(), "Declined");
  assert.equal(await badge(fromAdam).textContent(), "Revoked");
  assert.equal(await badge(expiring).textContent(), "Expired");
  assert.equal(await badge(waiting).textContent(), "Invited");
  // Why it was revoked, naming its inviter as the table names people.
  await rowOf(page, fromAdam.email).getByText("Adam was suspended.").waitFor();
  await rowOf(page, declining.email).getByText(/^Declined · listed until \d/).waitFor();
  await checkA11y(page, "members table with declined and revoked invitations");
  await shot(page, "invitations-statuses");
  await page.setViewportSize({ width: 390, height: 860 });
  await rowOf(page, fromAdam.email).locator(".badge.narrow").getByText("Revoked").waitFor();
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - innerWidth);
  assert.ok(overflow <= 0, `no sideways scrolling (${overflow} px too wide)`);
  await shot(page, "invitations-statuses-mobile");
  await page.setViewportSize({ width: 1280, height: 860 });

  // What each row's menu offers.
  const menu = async (who: Person) => {
    await page.getByRole("button", { name: `Actions for ${who.email}` }).click();
    const items = await page.getByRole("menuitem").allTextContents();
    await page.waitForFunction(() => document.activeElement?.getAttribute("role") === "menuitem");
    await page.keyboard.press("Escape");
    await page.getByRole("menu").waitFor({ state: "detached" });
    return items;
  };
  assert.deepEqual(await menu(declining), ["Remove invitation"], "a declined invitation cannot be sent again");
  assert.deepEqual(await menu(fromAdam), ["Resend invitation email", "Remove invitation"]);
  assert.deepEqual(await menu(expiring), ["Resend invitation email", "Remove invitation"]);
  assert.deepEqual(await menu(waiting), ["Resend invitation email", "Revoke invitation"]);

  // The status filter, by keyboard: the invitations of one status at a time.
  const status = page.getByLabel("Status", { exact: true });
  assert.deepEqual(await status.locator("option").allTextContents(), [
    "All",
    "Joined",
    "Suspended",
    "All invitations",
    "Pending",
    "Expired",
    "Declined",
    "Revoked",
  ]);
  const showing = async (...expected: Person[]) => {
    const want = expected.map((p) => p.email).sort();
    let shown: string[] = [];
    for (let i = 0; i < 50; i++) {
      const busy = await page.locator("table.roster").getAttribute("aria-busy");
      shown = (await page.locator("table.roster tbody tr:not(.group) td.person .name").allTextContents()).sort();
      if (busy === "false" && JSON.stringify(shown) === JSON.stringify(want)) return;
      await page.waitForTimeout(100);
    }
    assert.deepEqual(shown, want);
  };
  for (const [label, who] of [
    ["Pending", waiting],
    ["Expired", expiring],
    ["Declined", declining],
    ["Revoked", fromAdam],
  ] as const) {
    await status.selectOption({ label });
    await showing(who);
  }
  await status.focus();
  await status.selectOption({ label: "All invitations" });
  await showing(expiring, declining, fromAdam, waiting);
  assert.equal(await page.getByRole("link", { name: "Olive" }).count(), 0, "no members under All invitations");
  await checkA11y(page, "invitations filtered");

  // Resending the revoked one, by keyboard: it works again, on Olive's standing.
  const mails = (await mailbox(fromAdam.email)).length;
  await page.getByRole("button", { name: `Actions for ${fromAdam.email}` }).focus();
  await page.keyboard.press("Enter");
  await focusOn(page, "Resend invitation email");
  await page.keyboard.press("Enter");
  await rowOf(page, fromAdam.email)
    .getByRole("status")
    .getByText(`Invitation sent again to ${fromAdam.email}. It works again: you now stand behind it.`)
    .waitFor();
  assert.equal(await badge(fromAdam).textContent(), "Invited");
  assert.equal((await invitationIds(olive, org)).get(fromAdam.email)?.status, "pending");
  for (let i = 0; i < 50 && (await mailbox(fromAdam.email)).length === mails; i++) await page.waitForTimeout(100);
  assert.equal((await mailbox(fromAdam.email)).length, mails + 1, "one new mail");
});

test("bulk: select invitations, resend them, then revoke them after a confirmation; each result in words", async () => {
  const owner = person("bea");
  const [ana, ben, cy, dee] = [person("ana"), person("ben"), person("cy"), person("dee")];
  const org = await orgOf(owner);
  for (const who of [ana, ben, cy]) await inviteByEmail(owner, org, who, "member");
  await apiAs(dee, "POST", "/invitations/decline", { token: tokenOf(await inviteByEmail(owner, org, dee, "viewer")) });

  const page = await pageFor(browser(), owner, `/o/${org}/members`);
  await invitationRows(page).nth(3).waitFor();
  const select = (who: Person) => page.getByLabel(`Select the invitation to ${who.email}`);

  // "Select all invitations" selects the four; unchecking it clears them.
  await page.getByLabel("Select all invitations").check();
  await page.getByRole("button", { name: "Revoke selected (4)" }).waitFor();
  await page.getByRole("button", { name: "Resend selected (3)" }).waitFor();
  await page.getByLabel("Select all invitations").uncheck();
  assert.equal(await page.getByRole("button", { name: /selected/ }).count(), 0);

  // By keyboard: Space on Ana's and Ben's checkboxes, and Dee's (declined) with a click.
  await select(ana).focus();
  await page.keyboard.press("Space");
  await page.keyboard.press("Tab");
  let tabs = 0;
  while (!(await select(ben).evaluate((el) => el === document.activeElement)) && tabs++ < 10) await page.keyboard.press("Tab");
  await page.keyboard.press("Space");
  await select(dee).check();
  assert.equal(await page.getByLabel("Select all invitations").evaluate((el) => (el as HTMLInputElement).indeterminate), true);
  await checkA11y(page, "invitations selected");
  await shot(page, "invitations-selected");

  // Resend: the declined one is left out, and said to be.
  const before = { ana: (await mailbox(ana.email)).length, ben: (await mailbox(ben.email)).length };
  await page.getByRole("button", { name: "Resend selected (2)" }).click();
  const resend = page.getByRole("dialog", { name: "Resend 2 invitations?" });
  await resend.getByText(`Left out: ${dee.email}. It was declined`).waitFor();
  await checkA11y(page, "bulk resend dialog");
  await shot(page, "invitations-bulk-resend");
  await resend.getByRole("button", { name: "Yes, resend invitations" }).click();
  const resent = page.getByRole("dialog", { name: "Resent 2 of 2 invitations" });
  await resent.waitFor();
  assert.deepEqual(await resent.getByRole("listitem").allTextContents(), [`${ana.email}Sent again`, `${ben.email}Sent again`]);
  await focusOn(page, "Done");
  await page.keyboard.press("Enter");
  await page.locator(".members > .notice").getByText("2 invitations sent again.").waitFor();
  await nextMail(ana.email, before.ana);
  await nextMail(ben.email, before.ben);
  assert.equal((await mailbox(ana.email)).length, before.ana + 1);
  assert.equal((await mailbox(ben.email)).length, before.ben + 1);
  assert.equal(await page.getByRole("button", { name: /selected/ }).count(), 0, "the selection is cleared");

  // Revoke: Cy's invitation is revoked elsewhere meanwhile; the dialog asks first.
  await select(ben).check();
  await select(cy).check();
  await select(dee).check();
  await apiAs(owner, "DELETE", `/orgs/${org}/invitations/${(await invitationIds(owner, org)).get(cy.email)!.id}`);
  await page.getByRole("button", { name: "Revoke selected (3)" }).click();
  const revoke = page.getByRole("dialog", { name: "Revoke 3 invitations?" });
  await revoke.getByText(/Pending ones stop working at once/).waitFor();
  await checkA11y(page, "bulk revoke dialog");
  await shot(page, "invitations-bulk-revoke");
  await page.keyboard.press("Escape");
  await revoke.waitFor({ state: "detached" });
  assert.equal((await invitationIds(owner, org)).size, 3, "Escape revokes nothing");
  await page.getByRole("button", { name: "Revoke selected (3)" }).click();
  await revoke.getByRole("button", { name: "Yes, revoke invitations" }).click();
  const revoked = page.getByRole("dialog", { name: "Revoked 2 of 3 invitations" });
  await revoked.waitFor();
  assert.deepEqual(await revoked.getByRole("listitem").allTextContents(), [
    `${ben.email}Revoked`,
    `${cy.email}Was already gone`,
    `${dee.email}Removed from the list`,
  ]);
  await checkA11y(page, "bulk revoke results");
  await shot(page, "invitations-bulk-results");
  await page.setViewportSize({ width: 390, height: 860 });
  await shot(page, "invitations-bulk-results-mobile");
  await page.setViewportSize({ width: 1280, height: 860 });
  await revoked.getByRole("button", { name: "Done" }).click();
  await page.locator(".members > .notice").getByText("1 invitation revoked, 1 removed from the list.").waitFor();
  await page.waitForFunction(() => document.querySelectorAll("table.roster tbody tr.invitation").length === 1);
  assert.deepEqual([...(await invitationIds(owner, org)).keys()], [ana.email]);
});
