// A member's page as a console, used as a person does (keyboard paths included): the facts,
// the role proposed then saved (confirmed for admin and owner), suspend (confirmed) and
// reactivate, remove (confirmed), and Make owner, whose confirmation first says which of the
// owner's invitations and links the transfer ends. Only what the viewer's rank allows is
// offered. State a test is not about is set up through the API.
import { test } from "node:test";
import assert from "node:assert/strict";
import type { Page } from "playwright-core";
import { apiAs, checkA11y, newPage, orgOf, pageFor, person, shot, signIn, unique, useBrowser, type Person } from "./harness";
import { addMember, inviteByEmail, inviteLink } from "./invite-helpers";

const browser = useBrowser();

async function memberOf(who: Person, orgId: string, userId: string): Promise<{ role: string; status: string }> {
  const { member } = await apiAs<{ member: { role: string; status: string } }>(
    who,
    "GET",
    `/orgs/${orgId}/members/${encodeURIComponent(userId)}`,
  );
  return member;
}

/** The facts of the member's page, by their term. */
async function facts(page: Page): Promise<Record<string, string>> {
  return Object.fromEntries(
    await page.locator("dl.facts dt").evaluateAll((dts) => dts.map((dt) => [dt.textContent ?? "", dt.nextElementSibling?.textContent ?? ""])),
  );
}

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

test("a member's page: the role proposed then saved, suspend and reactivate, remove; each confirmed as in the table", async () => {
  const [mia, ned] = [person("mia"), person("ned")];
  const orgName = unique("Console Co");
  const org = await orgOf(mia, orgName);
  await addMember(mia, org, ned, "member");
  const page = await pageFor(browser(), mia, `/o/${org}/members/${ned.sub}`);
  await page.getByRole("heading", { name: "Ned", level: 2 }).waitFor();
  // The inviter's name, once looked up (never their id).
  await page.locator("dl.facts dd").getByText("Mia", { exact: true }).waitFor();
  const shown = await facts(page);
  assert.equal(shown["User id"], ned.sub);
  assert.equal(shown["Email"], ned.email);
  assert.equal(shown["Status"], "Joined");
  assert.equal(shown["Invited by"], "Mia");
  assert.ok(shown["Joined"] && shown["Last change"], "joined and last change shown");
  const role = page.getByLabel("Role of Ned");
  assert.equal(await role.inputValue(), "member");
  await checkA11y(page, "member console");
  await shot(page, "member-console");

  // By keyboard: ↑ proposes admin, nothing is written; Save asks first.
  await role.focus();
  await page.keyboard.press("ArrowUp");
  await page.getByRole("button", { name: "Save Ned's role" }).waitFor();
  assert.equal((await memberOf(mia, org, ned.sub)).role, "member", "a proposal writes nothing");
  await page.keyboard.press("Tab");
  await focusOn(page, "Save Ned's role");
  await page.keyboard.press("Enter");
  const confirm = page.getByRole("dialog", { name: "Make Ned an admin?" });
  await confirm.getByText(/Ned will be able to invite people/).waitFor();
  await checkA11y(page, "member console: role confirmation");
  await confirm.getByRole("button", { name: "Yes, make admin" }).press("Enter");
  await page.locator(".member-details").getByRole("status").getByText("Ned is now an admin.").waitFor();
  assert.equal((await memberOf(mia, org, ned.sub)).role, "admin");
  assert.equal(await role.inputValue(), "admin");

  // Suspend asks first; Escape changes nothing; then yes.
  const suspend = page.getByRole("button", { name: "Suspend" });
  await suspend.focus();
  await page.keyboard.press("Enter");
  const asked = page.getByRole("dialog", { name: "Suspend Ned?" });
  await asked.getByText(/Ned keeps their role, but can do nothing in/).waitFor();
  await page.keyboard.press("Escape");
  await asked.waitFor({ state: "detached" });
  await focusOn(page, "Suspend");
  assert.equal((await memberOf(mia, org, ned.sub)).status, "active");
  await page.keyboard.press("Enter");
  await asked.getByRole("button", { name: "Yes, suspend" }).click();
  await page.getByRole("status").getByText(/^Ned is suspended: they keep their role/).waitFor();
  assert.equal((await facts(page))["Status"], "Suspended");
  assert.equal((await memberOf(mia, org, ned.sub)).status, "suspended");
  await shot(page, "member-console-suspended");
  await page.setViewportSize({ width: 390, height: 860 });
  await checkA11y(page, "member console (390 px)");
  await shot(page, "member-console-mobile");
  await page.setViewportSize({ width: 1280, height: 860 });

  // Reactivate gives back what Ned had, without asking.
  await page.getByRole("button", { name: "Reactivate" }).click();
  await page.getByRole("status").getByText("Ned is active again.").waitFor();
  const back = await memberOf(mia, org, ned.sub);
  assert.deepEqual([back.role, back.status], ["admin", "active"]);

  // Remove asks first, then goes back to the members, saying so there.
  await page.getByRole("button", { name: "Remove member" }).click();
  const remove = page.getByRole("dialog", { name: "Remove Ned?" });
  await remove.getByText(/loses access to/).waitFor();
  await checkA11y(page, "member console: remove");
  await remove.getByRole("button", { name: "Yes, remove member" }).click();
  await page.waitForURL(`**/o/${org}/members`);
  await page.locator(".members > .notice").getByText(`Ned was removed from ${orgName}.`).waitFor();
  assert.equal(await page.locator("table.roster tbody tr").filter({ hasText: ned.email }).count(), 0);
});

test("a member's page offers an admin only what an admin may do, and a member nothing", async () => {
  const [oz, ann, max, vi] = [person("oz"), person("ann"), person("max"), person("vi")];
  const org = await orgOf(oz);
  await addMember(oz, org, ann, "admin");
  await addMember(oz, org, max, "member");
  await addMember(oz, org, vi, "viewer");

  // Ann, an admin, on the owner's page: no drop-down, no buttons, and why.
  const page = await pageFor(browser(), ann, `/o/${org}/members/${oz.sub}`);
  await page.getByRole("heading", { name: "Oz", level: 2 }).waitFor();
  assert.equal((await facts(page))["Role"], "Owner");
  await page.getByText("Only an owner can change Oz's role or membership.").waitFor();
  assert.equal(await page.locator(".member-actions").count(), 0);
  await checkA11y(page, "member console: an admin on an owner");

  // On a member's page: member and viewer only, Suspend and Remove, no Make owner.
  await page.goto(`/o/${org}/members/${max.sub}`);
  await page.getByRole("heading", { name: "Max", level: 2 }).waitFor();
  assert.deepEqual(await page.getByLabel("Role of Max").locator("option").allTextContents(), ["Member", "Viewer"]);
  assert.deepEqual(await page.locator(".member-actions button").allTextContents(), ["Suspend", "Remove member"]);
  await shot(page, "member-console-admin");
  // Member → viewer is saved at once.
  await page.getByLabel("Role of Max").selectOption("viewer");
  await page.getByRole("button", { name: "Save Max's role" }).click();
  await page.getByRole("status").getByText("Max is now a viewer.").waitFor();
  assert.equal((await memberOf(oz, org, max.sub)).role, "viewer");

  // Vi, a viewer, sees the facts and nothing to act with.
  const viewer = await pageFor(browser(), vi, `/o/${org}/members/${max.sub}`);
  await viewer.getByRole("heading", { name: "Max", level: 2 }).waitFor();
  assert.equal((await facts(viewer))["Role"], "Viewer");
  assert.equal(await viewer.getByRole("button", { name: /Suspend|Remove|Make owner/ }).count(), 0);
  assert.equal(await viewer.getByText(/Only an owner/).count(), 0);
  await checkA11y(viewer, "member console: a viewer");
});

test("Make owner says which invitations and links of the owner the transfer ends, then transfers", async () => {
  const [tess, uma, dave] = [person("tess"), person("uma"), person("dave")];
  const org = await orgOf(tess);
  await addMember(tess, org, uma, "member");
  await addMember(tess, org, dave, "admin");
  // Tess's live grants: two invitations and one link for owners or admins, one member
  // invitation and one viewer link; not hers: Dave's invitation.
  await inviteByEmail(tess, org, person("newadmin"), "admin");
  await inviteByEmail(tess, org, person("newowner"), "owner");
  await inviteByEmail(tess, org, person("newmember"), "member");
  await inviteLink(tess, org, { role: "admin" });
  await inviteLink(tess, org, { role: "viewer" });
  await inviteByEmail(dave, org, person("davesmember"), "member");

  const page = await newPage(browser());
  await signIn(page, tess, `/o/${org}/members/${uma.sub}`);
  await page.getByRole("heading", { name: "Uma", level: 2 }).waitFor();
  await page.getByRole("button", { name: "Make owner" }).click();
  const dialog = page.getByRole("dialog", { name: "Make Uma the owner?" });
  await dialog
    .getByText(
      "Your 3 invitations and 2 invite links will stop working: a transfer ends the invitations and links you made as an owner. As an admin you can send new ones for members and viewers, no longer for owners or admins.",
    )
    .waitFor();
  await checkA11y(page, "transfer warning");
  await shot(page, "member-console-transfer-warning");
  await page.setViewportSize({ width: 390, height: 860 });
  await shot(page, "member-console-transfer-warning-mobile");
  await page.setViewportSize({ width: 1280, height: 860 });
  await dialog.getByRole("button", { name: "Yes, transfer ownership" }).click();
  await page.getByRole("status").getByText("Uma is now an owner. You are now an admin.").waitFor();
  await page.getByText("You are an admin.").waitFor();
  assert.equal((await memberOf(tess, org, uma.sub)).role, "owner");
  // Tess, now an admin, is no longer offered anything on an owner.
  await page.getByText("Only an owner can change Uma's role or membership.").waitFor();

  // In the members table, Tess's invitations say they ended and why; the member one, which
  // she may still send, says how to make it work again. Dave's is untouched.
  await page.getByRole("link", { name: "Back to members" }).click();
  await page.locator("table.roster").waitFor();
  const row = (who: string) => page.locator("table.roster tbody tr").filter({ hasText: `${who}-` });
  for (const who of ["newadmin", "newowner"]) {
    await row(who).getByText("You can no longer invite people with this role.").waitFor();
    assert.equal(await row(who).locator("td.optional .badge").textContent(), "Revoked");
    assert.equal(await page.getByRole("button", { name: new RegExp(`^Actions for ${who}-`) }).count(), 0, "an admin cannot act on it");
  }
  await row("newmember")
    .getByText("It ended when your role changed: resend it to make it work again.")
    .waitFor({ timeout: 5000 })
    .catch(async () => assert.fail(`the member invitation's row says: ${await row("newmember").textContent()}`));
  assert.equal(await row("davesmember").locator("td.optional .badge").textContent(), "Invited");
  await checkA11y(page, "members after a transfer");
  await shot(page, "members-after-transfer");

  // Tess resends it: it works again.
  await page.getByRole("button", { name: new RegExp("^Actions for newmember-") }).click();
  await page.getByRole("menuitem", { name: "Resend invitation email" }).click();
  await row("newmember").getByRole("status").getByText(/It works again: you now stand behind it\.$/).waitFor();
  assert.equal(await row("newmember").locator("td.optional .badge").textContent(), "Invited");
});
