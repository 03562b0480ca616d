// "Add user" (an account with a temporary password, API.md "Accounts") and one owner per
// organization (ROSTER_SINGLE_OWNER), against a gateway that is a stack with its own user pool
// and SingleOwner=true (ROSTER_E2E_ACCOUNTS_URL, started by tests/stack/test.sh: a pool created
// on moto's server, and a /config.json saying `addUser` and `singleOwner`). The main gateway
// (ROSTER_E2E_URL), whose config.json says neither, shows what changes without them: nothing.
import { test } from "node:test";
import assert from "node:assert/strict";
import type { Locator, Page } from "playwright-core";
import { apiAt, BASE, checkA11y, newPage, person, shot, signIn, unique, useBrowser, type Person } from "./harness";

const APP = process.env.ROSTER_E2E_ACCOUNTS_URL ?? "";
const skip = APP ? false : "needs ROSTER_E2E_ACCOUNTS_URL (tests/stack/test.sh starts that gateway)";

const browser = useBrowser();

/** A page of the accounts gateway (or `base`), signed in as `who`, at `path`. */
async function pageAt(who: Person, path: string, base = APP, width = 1280): Promise<Page> {
  const page = await newPage(browser(), width, base);
  await signIn(page, who, path);
  return page;
}

/** A new organization on `base` owned by `owner`; its id. */
async function orgAt(base: string, owner: Person, name = unique("Accounts Co")): Promise<string> {
  return (await apiAt<{ org: { id: string } }>(base, owner, "POST", "/orgs", { name })).org.id;
}

/** `who` joins `orgId` on `base` as `role` through a one-use invite link of `owner`'s. */
async function join(base: string, owner: Person, orgId: string, who: Person, role: string): Promise<void> {
  const { link } = await apiAt<{ link: { token: string } }>(base, owner, "POST", `/orgs/${orgId}/invite-links`, { role, maxUses: 1 });
  await apiAt(base, who, "POST", "/invitations/accept", { token: link.token });
}

/** The values a role drop-down offers, once it is there. */
async function values(select: Locator): Promise<string[]> {
  await select.waitFor();
  return select.locator("option").evaluateAll((os) => os.map((o) => (o as HTMLOptionElement).value));
}

async function openAddUser(page: Page): Promise<Locator> {
  await page.getByRole("button", { name: "Add user" }).click();
  const dialog = page.getByRole("dialog", { name: "Add user" });
  await dialog.getByLabel("Name").waitFor();
  return dialog;
}

test("an admin adds a user with a generated password, copies it, and the new member is listed as active", { skip }, async () => {
  const owner = person("olga");
  const admin = person("adam");
  const orgId = await orgAt(APP, owner);
  await join(APP, owner, orgId, admin, "admin");
  const dana = person("dana");

  const page = await pageAt(admin, `/o/${orgId}/members`);
  const dialog = await openAddUser(page);
  // The dialog opens on its first field; the roles are those an admin may give.
  assert.equal(await dialog.getByLabel("Name").evaluate((el) => el === document.activeElement), true);
  assert.deepEqual(await values(dialog.getByLabel("Role")), ["member", "viewer"]);
  assert.equal(await dialog.getByLabel("Send the password by email").isChecked(), true);
  await checkA11y(page, "add user dialog");
  await shot(page, "accounts-add-user-dialog");

  // Typed as a person would: Tab from field to field.
  await page.keyboard.type("Dana Reyes");
  await page.keyboard.press("Tab");
  await page.keyboard.type(dana.email);
  await dialog.getByLabel("Role").selectOption("viewer");
  await dialog.getByRole("button", { name: "Generate password" }).click();
  const password = await dialog.getByLabel(/Temporary password/).inputValue();
  assert.equal(password.length, 16);
  for (const [what, pattern] of [["lowercase", /[a-z]/], ["uppercase", /[A-Z]/], ["digit", /[0-9]/], ["symbol", /[^A-Za-z0-9]/]] as const)
    assert.match(password, pattern, `a ${what} in ${password}`);
  await dialog.getByRole("status").filter({ hasText: "A new password was generated." }).waitFor();
  // Each press makes a new one.
  await dialog.getByRole("button", { name: "Generate password" }).click();
  assert.notEqual(await dialog.getByLabel(/Temporary password/).inputValue(), password);
  const generated = await dialog.getByLabel(/Temporary password/).inputValue();
  await dialog.getByRole("button", { name: "Copy" }).click();
  await dialog.getByRole("status").filter({ hasText: "Password copied." }).waitFor();
  assert.equal(await page.evaluate(() => navigator.clipboard.readText()), generated);
  await shot(page, "accounts-add-user-filled");

  await dialog.getByRole("button", { name: "Add user" }).click();
  await dialog.getByText(/Dana Reyes was added to .* as a viewer, and is in the members list now\./).waitFor();
  await dialog.getByText(`Their temporary password was emailed to ${dana.email}.`, { exact: false }).waitFor();
  // The result takes the focus to Done.
  assert.equal(await dialog.getByRole("button", { name: "Done" }).evaluate((el) => el === document.activeElement), true);
  await checkA11y(page, "add user result");
  await shot(page, "accounts-add-user-added");
  await page.keyboard.press("Enter");
  await dialog.waitFor({ state: "detached" });
  // Focus is back on what opened the dialog.
  assert.equal(await page.getByRole("button", { name: "Add user" }).evaluate((el) => el === document.activeElement), true);

  // Listed at once, active, as a viewer; and so the API says.
  const row = page.getByRole("row").filter({ hasText: "Dana Reyes" });
  await row.getByText("Joined", { exact: true }).last().waitFor();
  assert.match(await row.innerText(), /Viewer/);
  const { members } = await apiAt<{ members: { name?: string; status: string; role: string }[] }>(
    APP,
    owner,
    "GET",
    `/orgs/${orgId}/members`,
  );
  const listed = members.find((m) => m.name === "Dana Reyes");
  assert.deepEqual(listed && [listed.status, listed.role], ["active", "viewer"]);
  await shot(page, "accounts-members-after-add");
});

test("unticking the email shows the warning, asks for a password, says a weak one's rule, and shows the password to hand over", { skip }, async () => {
  const owner = person("omar");
  const orgId = await orgAt(APP, owner);
  const page = await pageAt(owner, `/o/${orgId}/members`);
  const dialog = await openAddUser(page);
  const field = dialog.getByLabel(/Temporary password/);
  await dialog.getByLabel("Name").fill("Kim Lee");
  await dialog.getByLabel("Email", { exact: true }).fill(person("kim").email);

  // Keyboard: Space on the focused checkbox unticks it, and the warning says what that means.
  await dialog.getByLabel("Send the password by email").focus();
  await page.keyboard.press("Space");
  const warning = dialog.getByText("You will need to give Kim Lee the password yourself", { exact: false });
  await warning.waitFor();
  assert.equal(
    await dialog.getByLabel("Send the password by email").getAttribute("aria-describedby"),
    await warning.getAttribute("id"),
  );
  await checkA11y(page, "add user, email off");
  await shot(page, "accounts-email-off-warning");

  // No password: said, and the field marked and focused.
  await dialog.getByRole("button", { name: "Add user" }).click();
  await dialog.getByRole("alert").filter({ hasText: "Enter or generate a password" }).waitFor();
  assert.equal(await field.getAttribute("aria-invalid"), "true");
  assert.equal(await field.evaluate((el) => el === document.activeElement), true);

  // A password the pool's policy refuses: the rule broken, in words.
  await field.fill("short1A");
  await dialog.getByRole("button", { name: "Add user" }).click();
  await dialog
    .getByRole("alert")
    .filter({ hasText: "That password is not accepted: it must have at least 12 characters." })
    .waitFor();
  assert.equal(await field.evaluate((el) => el === document.activeElement), true);
  await field.fill("no-uppercase-here-1");
  await dialog.getByRole("button", { name: "Add user" }).click();
  await dialog.getByRole("alert").filter({ hasText: "it must contain an uppercase letter." }).waitFor();
  await checkA11y(page, "add user, weak password");
  await shot(page, "accounts-weak-password");

  await dialog.getByRole("button", { name: "Generate password" }).click();
  const password = await field.inputValue();
  assert.equal(await field.getAttribute("aria-invalid"), null, "a new password is no longer marked");
  await dialog.getByRole("button", { name: "Add user" }).click();
  await dialog.getByText("No email was sent: give Kim Lee the password yourself.", { exact: false }).waitFor();
  // The password stays on screen, to be copied, until the dialog is closed.
  assert.equal(await dialog.getByLabel("Temporary password").inputValue(), password);
  await dialog.getByRole("button", { name: "Copy" }).click();
  assert.equal(await page.evaluate(() => navigator.clipboard.readText()), password);
  await checkA11y(page, "add user, password to hand over");
  await shot(page, "accounts-email-off-added");

  // "Add another" starts afresh, keeping the choices.
  await dialog.getByRole("button", { name: "Add another" }).click();
  await dialog.getByLabel("Name").waitFor();
  assert.equal(await dialog.getByLabel("Name").evaluate((el) => el === document.activeElement), true);
  assert.equal(await dialog.getByLabel("Name").inputValue(), "");
  assert.equal(await dialog.getByLabel("Send the password by email").isChecked(), false);
});

test("adding an address that can already sign in sends an invitation instead, and says only that", { skip }, async () => {
  const first = person("fay");
  const second = person("gus");
  const lena = person("lena");
  const firstOrg = await orgAt(APP, first);
  const secondOrg = await orgAt(APP, second, unique("Second Co"));
  const made = await apiAt<{ result: string }>(APP, first, "POST", `/orgs/${firstOrg}/members/accounts`, {
    email: lena.email,
    name: "Lena Park",
    role: "member",
    sendEmail: true,
  });
  assert.equal(made.result, "account_created");

  const page = await pageAt(second, `/o/${secondOrg}/members`);
  const dialog = await openAddUser(page);
  await dialog.getByLabel("Name").fill("Lena Park");
  await dialog.getByLabel("Email", { exact: true }).fill(lena.email);
  await dialog.getByLabel(/Temporary password/).fill("Chosen-password-42");
  await dialog.getByRole("button", { name: "Add user" }).click();
  await dialog
    .getByText(`An invitation was sent to ${lena.email}: they join ${await orgName(second, secondOrg)} as a member when they accept it.`)
    .waitFor();
  const said = await dialog.innerText();
  assert.match(said, /The password you entered was not used\./);
  // Nothing of the other organization.
  assert.doesNotMatch(said, new RegExp((await orgName(first, firstOrg)).replace(/[.*+?^${}()|[\]\\]/g, "\\$&")));
  await checkA11y(page, "add user, invited instead");
  await shot(page, "accounts-invited-instead");
  await dialog.getByRole("button", { name: "Done" }).click();
  // The invitation is in the list, pending; no member of that name.
  const row = page.getByRole("row").filter({ hasText: lena.email });
  await row.getByText("Invited", { exact: true }).last().waitFor();
  assert.equal(await page.getByRole("link", { name: "Lena Park" }).count(), 0);

  // Adding them again here is refused as what it is.
  const again = await openAddUser(page);
  await again.getByLabel("Name").fill("Lena Park");
  await again.getByLabel("Email", { exact: true }).fill(lena.email);
  await again.getByRole("button", { name: "Add user" }).click();
  await again.getByRole("alert").filter({ hasText: `${lena.email} has a pending invitation to` }).waitFor();
});

async function orgName(owner: Person, orgId: string): Promise<string> {
  return (await apiAt<{ org: { name: string } }>(APP, owner, "GET", `/orgs/${orgId}`)).org.name;
}

test("members and viewers see no Add user; a deployment without a user pool of its own offers it to nobody", { skip }, async () => {
  const owner = person("ona");
  const viewer = person("vic");
  const member = person("mo");
  const orgId = await orgAt(APP, owner);
  await join(APP, owner, orgId, viewer, "viewer");
  await join(APP, owner, orgId, member, "member");
  for (const who of [viewer, member]) {
    const page = await pageAt(who, `/o/${orgId}/members`);
    await page.getByRole("row").filter({ hasText: "Ona" }).waitFor();
    assert.equal(await page.getByRole("button", { name: "Add user" }).count(), 0, `${who.name} sees no Add user`);
    if (who === viewer) await shot(page, "accounts-viewer-no-add-user");
    await page.context().close();
  }
  const ownerPage = await pageAt(owner, `/o/${orgId}/members`);
  await ownerPage.getByRole("button", { name: "Add user" }).waitFor();
  await ownerPage.context().close();

  // The main gateway's config.json says nothing of a user pool (nor of one owner): its owner
  // may invite, and give Owner, but not add a user.
  const elsewhere = person("eli");
  const baseOrg = await orgAt(BASE, elsewhere);
  const page = await pageAt(elsewhere, `/o/${baseOrg}/members`, BASE);
  await page.getByRole("button", { name: "Invite members" }).waitFor();
  assert.equal(await page.getByRole("button", { name: "Add user" }).count(), 0);
  await page.getByRole("button", { name: "Invite members" }).click();
  assert.deepEqual(await values(page.getByRole("dialog", { name: "Invite members" }).getByLabel("Role")), ["owner", "admin", "member", "viewer"]);
});

test("with a single owner no picker offers Owner, and the owner's row offers no role change, suspension or removal", { skip }, async () => {
  const owner = person("nora");
  const admin = person("ali");
  const member = person("max");
  const orgId = await orgAt(APP, owner, unique("One Owner Co"));
  await join(APP, owner, orgId, admin, "admin");
  await join(APP, owner, orgId, member, "member");

  const page = await pageAt(owner, `/o/${orgId}/members`);
  const ownerRow = page.getByRole("row").filter({ hasText: "Nora" });
  const memberRow = page.getByRole("row").filter({ hasText: "Max" });
  await memberRow.waitFor();
  // The owner's own row: the role as words, no menu, no checkbox.
  assert.equal(await ownerRow.getByRole("combobox").count(), 0);
  assert.match(await ownerRow.innerText(), /Owner/);
  assert.equal(await ownerRow.getByRole("button", { name: /Actions for/ }).count(), 0);
  assert.equal(await ownerRow.getByRole("checkbox").count(), 0);
  // Another member's role: every role but Owner; their menu still moves ownership.
  assert.deepEqual(await values(memberRow.getByRole("combobox")), ["admin", "member", "viewer"]);
  await memberRow.getByRole("button", { name: "Actions for Max" }).click();
  const items = await page.getByRole("menuitem").allInnerTexts();
  assert.deepEqual(items, ["Suspend", "Make owner", "Remove"]);
  await page.keyboard.press("Escape");
  await checkA11y(page, "members, single owner (owner)");
  await shot(page, "accounts-single-owner-owner-view");

  // Invite members, Add user: no Owner.
  await page.getByRole("button", { name: "Invite members" }).click();
  const invite = page.getByRole("dialog", { name: "Invite members" });
  assert.deepEqual(await values(invite.getByLabel("Role")), ["admin", "member", "viewer"]);
  await invite.getByRole("button", { name: "Cancel" }).click();
  const add = await openAddUser(page);
  assert.deepEqual(await values(add.getByLabel("Role")), ["admin", "member", "viewer"]);
  await add.getByRole("button", { name: "Cancel" }).click();

  // Invite links: no Owner.
  await page.goto(`/o/${orgId}/links`);
  const form = page.locator("form.link-form");
  await form.getByLabel("Role").waitFor();
  assert.deepEqual(await values(form.getByLabel("Role")), ["admin", "member", "viewer"]);

  // The owner's own page: no role change there either, but "Leave" still says why not.
  await page.goto(`/o/${orgId}/members/${encodeURIComponent(owner.sub)}`);
  await page.getByRole("heading", { name: /Nora/ }).waitFor();
  assert.equal(await page.locator(".role-fact select").count(), 0);

  // An admin sees the owner's row as a fact, and why, on the owner's page.
  const adminPage = await pageAt(admin, `/o/${orgId}/members`);
  const seen = adminPage.getByRole("row").filter({ hasText: "Nora" });
  await seen.waitFor();
  assert.equal(await seen.getByRole("combobox").count(), 0);
  assert.equal(await seen.getByRole("button", { name: /Actions for/ }).count(), 0);
  assert.equal(await seen.getByRole("checkbox").count(), 0);
  assert.deepEqual(await values(adminPage.getByRole("row").filter({ hasText: "Max" }).getByRole("combobox")), ["member", "viewer"]);
  await shot(adminPage, "accounts-single-owner-admin-view");
  await seen.getByRole("link", { name: "Nora" }).click();
  await adminPage.getByText("is the owner of", { exact: false }).waitFor();
  assert.match(
    await adminPage.locator(".outranked").innerText(),
    /Nora is the owner of .*: their role and membership change only when they transfer ownership\./,
  );
  await checkA11y(adminPage, "owner's page, single owner (admin)");
  await shot(adminPage, "accounts-single-owner-owner-page");
});

test("Add user on a phone", { skip }, async () => {
  const owner = person("pia");
  const orgId = await orgAt(APP, owner);
  const page = await pageAt(owner, `/o/${orgId}/members`, APP, 390);
  const dialog = await openAddUser(page);
  await dialog.getByLabel("Name").fill("Ravi Shah");
  await dialog.getByLabel("Email", { exact: true }).fill(person("ravi").email);
  await dialog.getByRole("button", { name: "Generate password" }).click();
  await dialog.getByLabel("Send the password by email").uncheck();
  await checkA11y(page, "add user on a phone");
  await shot(page, "accounts-add-user-phone");
  const width = await page.evaluate(() => document.documentElement.scrollWidth);
  assert.ok(width <= 390, `no sideways scrolling (${width}px)`);
});
