// Custom roles (Settings → Roles, owners only): an owner creates one with two of the host
// product's permissions, sees it listed, edits it, invites someone with it and gives it to a
// member; its deletion is refused while it is held (what holds it said in words) and allowed
// once nobody does. An admin has no Roles tab, and is offered only the custom roles ranked
// member or viewer. State a test is not about is set up through the API.
import { test } from "node:test";
import assert from "node:assert/strict";
import type { Page } from "playwright-core";
import { apiAs, BASE, checkA11y, orgOf, pageFor, person, shot, unique, useBrowser } from "./harness";
import { addMember } from "./invite-helpers";

const browser = useBrowser();

type RoleDefinition = { key: string; name: string; base: string; builtin: boolean; permissions: string[]; description: string };

const rolesOf = async (who: ReturnType<typeof person>, org: string) =>
  (await apiAs<{ roles: RoleDefinition[] }>(who, "GET", `/orgs/${org}/roles`)).roles;

const rowOf = (page: Page, text: string) => page.locator("table.roster tbody tr").filter({ hasText: text });

test("an owner creates, edits, assigns and deletes a custom role; deletion waits until nobody holds it", async () => {
  const [alice, bob, carol] = [person("alice"), person("bob"), person("carol")];
  const org = await orgOf(alice, unique("Roles Co"));
  await addMember(alice, org, bob, "admin");
  await addMember(alice, org, carol, "member");

  // Settings has a Roles tab for owners: the built-in roles, read-only, and no custom ones yet.
  const page = await pageFor(browser(), alice, `/o/${org}/settings`);
  await page.getByLabel("Organization name").waitFor();
  await page.getByRole("navigation", { name: "Settings" }).getByRole("link", { name: "Roles" }).click();
  await page.waitForURL((url) => url.pathname === `/o/${org}/settings/roles`);
  await page.getByRole("heading", { name: "Custom roles" }).waitFor();
  await page.getByText("No custom roles yet.").waitFor();
  const builtin = page.getByRole("region", { name: "Built-in roles" });
  for (const name of ["Owner", "Admin", "Member", "Viewer"]) await builtin.getByText(name, { exact: true }).waitFor();
  assert.equal(await builtin.getByRole("button").count(), 0, "built-in roles cannot be changed");
  await checkA11y(page, "roles");
  await shot(page, "roles");

  // Create: the key is suggested from the name; the base is said in words; the permissions
  // are the host product's, by scope, with their descriptions.
  await page.getByRole("button", { name: "Create role" }).click();
  const create = page.getByRole("dialog", { name: "Create role" });
  await create.waitFor();
  const name = create.getByLabel("Name", { exact: true });
  assert.ok(await name.evaluate((el) => el === document.activeElement), "focus starts in the name field");
  await name.fill("Billing admin");
  assert.equal(await create.getByLabel("Key", { exact: true }).inputValue(), "billing_admin");
  await create.getByLabel("Description").fill("Members who also handle the plan and invoices");
  await create.getByLabel("Ranks as").selectOption("admin");
  await create.getByText("Ranks as Admin for every member-management rule").waitFor();
  await create.getByLabel("Ranks as").selectOption("member");
  await create.getByText("Ranks as Member for every member-management rule").waitFor();
  const orgPermissions = create.getByRole("group", { name: "Organization permissions" });
  const workspacePermissions = create.getByRole("group", { name: "Workspace permissions" });
  await workspacePermissions.getByText("Create and edit projects and files").waitFor();
  assert.equal(await create.getByText("Read the audit trail").count(), 0, "Roster's own permissions are not offered");
  await orgPermissions.getByLabel("Read the plan, invoices and usage").check();
  await orgPermissions.getByLabel("Change the plan and payment method").check();
  await checkA11y(page, "create role dialog");
  await shot(page, "roles-create");
  await create.getByRole("button", { name: "Create role" }).click();
  await create.waitFor({ state: "detached" });
  await page.getByRole("status").getByText("Created Billing admin.").waitFor();
  const row = rowOf(page, "billing_admin");
  await row.getByText("Billing admin", { exact: true }).waitFor();
  await row.getByText("Member", { exact: true }).waitFor();
  await row.getByText("2 permissions").waitFor();
  let [made] = (await rolesOf(alice, org)).filter((r) => !r.builtin);
  assert.deepEqual(
    { key: made?.key, name: made?.name, base: made?.base, permissions: made?.permissions },
    { key: "billing_admin", name: "Billing admin", base: "member", permissions: ["billing:manage", "billing:read"] },
  );
  await shot(page, "roles-created");

  // Edit: the key and the base stay; the name and the permissions change.
  await page.getByRole("button", { name: "Edit Billing admin" }).click();
  const edit = page.getByRole("dialog", { name: "Edit Billing admin" });
  await edit.waitFor();
  assert.equal(await edit.getByLabel("Key", { exact: true }).getAttribute("readonly"), "");
  assert.equal(await edit.getByLabel("Ranks as").count(), 0, "the base is not offered for change");
  await edit.getByText("This cannot be changed.").waitFor();
  assert.equal(await edit.getByLabel("Change the plan and payment method").isChecked(), true);
  await edit.getByLabel("Name", { exact: true }).fill("Billing manager");
  await edit.getByLabel("Read the organization's reports and dashboards").check();
  await checkA11y(page, "edit role dialog");
  await shot(page, "roles-edit");
  await edit.getByRole("button", { name: "Save changes" }).click();
  await edit.waitFor({ state: "detached" });
  await page.getByRole("status").getByText("Saved Billing manager.").waitFor();
  await rowOf(page, "billing_admin").getByText("3 permissions").waitFor();
  [made] = (await rolesOf(alice, org)).filter((r) => !r.builtin);
  assert.equal(made?.name, "Billing manager");
  assert.deepEqual(made?.permissions, ["billing:manage", "billing:read", "reports:read"]);

  // Given to a member from the members table: same rank, so saved without a confirmation.
  await page.getByRole("navigation", { name: "Organization" }).getByRole("link", { name: "Members" }).click();
  const role = page.getByLabel("Role of Carol");
  await role.waitFor();
  assert.ok(
    (await role.locator("option").allTextContents()).includes("Billing manager (ranks as Member)"),
    "the custom role is offered",
  );
  await role.selectOption("billing_admin");
  await page.getByRole("button", { name: "Save Carol's role" }).click();
  await page.getByRole("status").getByText("Carol is now Billing manager (ranks as Member).").waitFor();
  const carolNow = await apiAs<{ member: { role: string; customRole?: string } }>(alice, "GET", `/orgs/${org}/members/${carol.sub}`);
  assert.deepEqual([carolNow.member.role, carolNow.member.customRole], ["member", "billing_admin"]);
  await checkA11y(page, "members with a custom role");
  await shot(page, "roles-member");

  // Carol's own page says her role by its name.
  const carolPage = await pageFor(browser(), carol, `/o/${org}/members`);
  await carolPage.getByText("You are Billing manager (ranks as Member).").waitFor();
  await carolPage.getByRole("cell", { name: "Billing manager (ranks as Member)" }).waitFor();

  // Held: deletion refused, with what holds it in words; nothing deleted.
  await page.goto(`/o/${org}/settings/roles`);
  await page.getByRole("button", { name: "Delete Billing manager" }).click();
  const del = page.getByRole("dialog", { name: "Delete Billing manager?" });
  await del.getByRole("button", { name: "Yes, delete role" }).click();
  const refused = del.getByRole("alert");
  await refused.getByText("This role cannot be deleted yet").waitFor();
  assert.match((await refused.textContent()) ?? "", /1 member/);
  await checkA11y(page, "delete role refused");
  await shot(page, "roles-delete-refused");
  await del.getByRole("button", { name: "Cancel" }).click();
  await del.waitFor({ state: "detached" });
  assert.equal((await rolesOf(alice, org)).filter((r) => !r.builtin).length, 1);

  // Carol back to Member: nothing holds it, and it goes.
  await apiAs(alice, "PATCH", `/orgs/${org}/members/${carol.sub}`, { role: "member" });
  await page.getByRole("button", { name: "Delete Billing manager" }).click();
  await del.getByRole("button", { name: "Yes, delete role" }).click();
  await del.waitFor({ state: "detached" });
  await page.getByRole("status").getByText("Deleted Billing manager.").waitFor();
  await page.getByText("No custom roles yet.").waitFor();
  assert.deepEqual((await rolesOf(alice, org)).filter((r) => !r.builtin), []);
  await page.setViewportSize({ width: 390, height: 860 });
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - innerWidth);
  assert.ok(overflow <= 0, `no sideways scrolling (${overflow} px too wide)`);
  await shot(page, "roles-mobile");

  // The Activity tab tells it.
  await page.setViewportSize({ width: 1280, height: 860 });
  await page.getByRole("link", { name: "Activity" }).click();
  const log = page.getByRole("list", { name: "Activity, newest first" });
  await log.waitFor();
  for (const line of [
    "Alice deleted the role “Billing manager”",
    "Alice changed Carol's role from Billing manager to member",
    "Alice changed Carol's role from member to Billing manager",
    "Alice renamed the role “Billing admin” to “Billing manager”",
    "Alice created the role “Billing admin”",
  ])
    await log.getByText(line).first().waitFor();

  // An admin has no Roles tab, and its address shows the general settings.
  const admin = await pageFor(browser(), bob, `/o/${org}/settings`);
  await admin.getByLabel("Organization name").waitFor();
  assert.equal(await admin.getByRole("link", { name: "Roles" }).count(), 0);
  await admin.goto(`/o/${org}/settings/roles`);
  await admin.getByLabel("Organization name").waitFor();
  assert.equal(await admin.getByRole("heading", { name: "Custom roles" }).count(), 0);
});

test("an invitation with a custom role holds it; an admin is offered only those ranked member or viewer", async () => {
  const [olga, adam, nina] = [person("olga"), person("adam"), person("nina")];
  const org = await orgOf(olga, unique("Roles Inc"));
  await addMember(olga, org, adam, "admin");
  const permissions = ["reports:read"];
  await apiAs(olga, "POST", `/orgs/${org}/roles`, { key: "analyst", name: "Analyst", base: "viewer", permissions });
  await apiAs(olga, "POST", `/orgs/${org}/roles`, { key: "ops_lead", name: "Ops lead", base: "admin", permissions });

  // The owner invites with a custom role from the invite dialog.
  const page = await pageFor(browser(), olga, `/o/${org}/members`);
  await page.getByRole("button", { name: "Invite members" }).click();
  const dialog = page.getByRole("dialog", { name: "Invite members" });
  await dialog.waitFor();
  const values = async (select: ReturnType<Page["getByLabel"]>) =>
    select.locator("option").evaluateAll((os) => os.map((o) => (o as HTMLOptionElement).value));
  await dialog.getByRole("option", { name: "Analyst (ranks as Viewer)" }).waitFor({ state: "attached" });
  assert.deepEqual(await values(dialog.getByLabel("Role").first()), ["owner", "admin", "member", "viewer", "analyst", "ops_lead"]);
  await page.keyboard.type(`${nina.email},`);
  await dialog.getByLabel("Role").first().selectOption("analyst");
  await dialog.getByRole("button", { name: "Send invitations" }).click();
  const results = dialog.getByRole("list", { name: "Results" });
  await results.getByText("as analyst (ranks as viewer)").waitFor();
  await shot(page, "roles-invited");
  await dialog.getByRole("button", { name: "Done" }).click();
  await rowOf(page, nina.email).getByText("Analyst (ranks as Viewer)").waitFor();

  // Held by the invitation: its deletion is refused, saying so.
  const del = await fetchAs(olga, "DELETE", `/orgs/${org}/roles/analyst`);
  assert.equal(del.status, 409);
  assert.equal(del.body.code, "role_in_use");
  assert.match(del.body.detail, /invitation/);

  // An admin: the invite dialog and the link form offer the member- and viewer-ranked ones only.
  const admin = await pageFor(browser(), adam, `/o/${org}/members`);
  await admin.getByRole("button", { name: "Invite members" }).click();
  const adminDialog = admin.getByRole("dialog", { name: "Invite members" });
  await adminDialog.getByRole("option", { name: "Analyst (ranks as Viewer)" }).waitFor({ state: "attached" });
  assert.deepEqual(await values(adminDialog.getByLabel("Role").first()), ["member", "viewer", "analyst"]);
  await adminDialog.getByRole("button", { name: "Close" }).click();
  await admin.getByRole("link", { name: "Invite links" }).click();
  const form = admin.getByRole("region", { name: "Create invite link" });
  await form.getByRole("option", { name: "Analyst (ranks as Viewer)" }).waitFor({ state: "attached" });
  assert.deepEqual(await values(form.getByLabel("Role")), ["member", "viewer", "analyst"]);
  await checkA11y(admin, "invite link form with custom roles");
});

test("a workspace member is given a custom role from the workspace's page", async () => {
  const [wendy, walt] = [person("wendy"), person("walt")];
  const org = await orgOf(wendy, unique("Roles Studio"));
  await addMember(wendy, org, walt, "member");
  await apiAs(wendy, "POST", `/orgs/${org}/roles`, { key: "designer", name: "Designer", base: "member", permissions: ["projects:write"] });
  const { workspace } = await apiAs<{ workspace: { id: string } }>(wendy, "POST", `/orgs/${org}/workspaces`, { name: "Web" });
  await apiAs(wendy, "PUT", `/orgs/${org}/workspaces/${workspace.id}/members/${walt.sub}`, { role: "viewer" });

  const page = await pageFor(browser(), wendy, `/o/${org}/workspaces/${workspace.id}`);
  const role = page.getByLabel("Role of Walt");
  await role.locator("option", { hasText: "Designer (ranks as Member)" }).waitFor({ state: "attached" });
  await role.selectOption("designer");
  await page.getByRole("button", { name: "Save Walt's role" }).click();
  await page.getByText("Walt is now Designer (ranks as Member) here.").waitFor();
  assert.equal(await role.inputValue(), "designer");
  const rows = await apiAs<{ members: { userId: string; role: string; customRole?: string }[] }>(
    wendy,
    "GET",
    `/orgs/${org}/workspaces/${workspace.id}/members`,
  );
  const row = rows.members.find((m) => m.userId === walt.sub);
  assert.deepEqual([row?.role, row?.customRole], ["member", "designer"]);
  await checkA11y(page, "workspace with a custom role");
  await shot(page, "roles-workspace");
});

/** Calls the API as `who`, whatever the answer. */
async function fetchAs(who: ReturnType<typeof person>, method: string, path: string): Promise<{ status: number; body: any }> {
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
