// Workspaces and groups: create a workspace, add a member with a role (their effective role and
// where it comes from, in words), a group granted a workspace giving its members access through
// it, deletion confirmed (access ends at once), the invite dialog and an invite link assigning
// workspaces and groups that the invitee joins on accepting, and what a plain member and a
// workspace admin are offered. axe-core on every screen and state, and the pages at 390 px.
import { test } from "node:test";
import assert from "node:assert/strict";
import type { Locator, Page } from "playwright-core";
import { apiAs, checkA11y, fillSignIn, latestMail, newPage, orgOf, pageFor, person, shot, unique, useBrowser, type Person } from "./harness";
import { addMember, pathOf } from "./invite-helpers";

const browser = useBrowser();

type Ws = { id: string; name: string };

async function workspaceOf(owner: Person, orgId: string, name = unique("Atlas")): Promise<Ws> {
  const { workspace } = await apiAs<{ workspace: Ws }>(owner, "POST", `/orgs/${orgId}/workspaces`, { name, description: "The Atlas launch" });
  return workspace;
}

async function groupOf(owner: Person, orgId: string, name: string): Promise<string> {
  const { group } = await apiAs<{ group: { id: string } }>(owner, "POST", `/orgs/${orgId}/groups`, { name });
  return group.id;
}

/** Types `text` into the type-ahead labelled `label` and picks the option named `option` with
 * the keyboard (↓ until it is marked, then Enter); `screen`: axe-core and a screenshot while
 * the list is open. */
async function pick(page: Page, scope: Page | Locator, label: string, text: string, option: string, screen?: string) {
  const field = scope.getByRole("combobox", { name: label });
  await field.click();
  await field.pressSequentially(text);
  const listbox = scope.getByRole("listbox", { name: label });
  await listbox.getByRole("option", { name: option }).waitFor();
  if (screen) {
    await checkA11y(page, screen);
    await shot(page, screen.replace(/\W+/g, "-").replace(/-$/, ""));
  }
  for (let i = 0; i < 8; i++) {
    const marked = listbox.locator('[role=option][aria-selected="true"]');
    if (((await marked.textContent()) ?? "").startsWith(option)) break;
    await page.keyboard.press("ArrowDown");
  }
  await page.keyboard.press("Enter");
}

const row = (page: Page | Locator, text: string) => page.getByRole("row").filter({ hasText: text });

/** The page at 390 px: axe-core, a screenshot, and nothing wider than the screen. */
async function onPhone(page: Page, screen: string) {
  await page.setViewportSize({ width: 390, height: 860 });
  await checkA11y(page, `${screen} (390 px)`);
  await shot(page, `${screen.replace(/\W+/g, "-").replace(/-$/, "")}-390`);
  assert.ok(await page.evaluate(() => document.documentElement.scrollWidth <= 390), `${screen}: nothing wider than the screen`);
  await page.setViewportSize({ width: 1280, height: 860 });
}

test("an admin creates a workspace, adds a member with a role and sees their effective role and where it comes from", async () => {
  const owner = person("wanda");
  const ben = person("benedict");
  const orgId = await orgOf(owner);
  await addMember(owner, orgId, ben, "member");
  const page = await pageFor(browser(), owner, `/o/${orgId}/workspaces`);

  await page.getByText("No workspaces yet.").waitFor();
  await checkA11y(page, "workspaces (none)");
  await shot(page, "workspaces-empty");
  await page.getByRole("button", { name: "Create workspace" }).click();
  const dialog = page.getByRole("dialog", { name: "Create workspace" });
  const name = unique("Atlas");
  await dialog.getByLabel("Name").fill(name);
  await dialog.getByLabel("Description").fill("Everything about the Atlas launch");
  await checkA11y(page, "create workspace dialog");
  await shot(page, "workspace-create-dialog");
  await dialog.getByRole("button", { name: "Create workspace" }).click();

  // The new workspace's page: the creator's access through the organization, nobody added yet.
  await page.getByRole("heading", { name, level: 2 }).waitFor();
  await page.getByText("Your access: Admin through the organization.").waitFor();
  await page.getByText("No direct members yet.").waitFor();
  await checkA11y(page, "workspace (new)");
  await shot(page, "workspace-new");

  // Ben, found by the start of his name, with the keyboard; he gets Viewer here.
  await pick(page, page, "Add member", "bene", "Benedict", "workspace (type-ahead open)");
  await page.getByRole("button", { name: "Choose someone other than Benedict" }).waitFor();
  await page.getByLabel("Role here").selectOption("viewer");
  await checkA11y(page, "workspace (adding a member)");
  await page.getByRole("button", { name: "Add", exact: true }).click();
  const benRow = row(page, "Benedict");
  await benRow.getByText("Benedict was added as a viewer.").waitFor();
  await benRow.getByText("Viewer, direct").waitFor();
  // The drop-down proposes; an arrow key writes nothing.
  const select = benRow.getByRole("combobox", { name: "Role of Benedict" });
  assert.equal(await select.inputValue(), "viewer");
  await select.selectOption("member");
  await benRow.getByRole("button", { name: "Save Benedict's role" }).waitFor();
  await page.reload();
  await row(page, "Benedict").getByText("Viewer, direct").waitFor();

  // Admin is asked first, with what it means.
  await row(page, "Benedict").getByRole("combobox", { name: "Role of Benedict" }).selectOption("admin");
  await row(page, "Benedict").getByRole("button", { name: "Save Benedict's role" }).click();
  const confirm = page.getByRole("dialog", { name: `Change Benedict's role in ${name}?` });
  await confirm.getByText(`Benedict will be able to rename ${name}`).waitFor();
  await checkA11y(page, "workspace (make admin confirmation)");
  await shot(page, "workspace-make-admin");
  await confirm.getByRole("button", { name: "Yes, make admin" }).click();
  await row(page, "Benedict").getByText("Admin, direct").waitFor();
  // "Organization role" follows his organization role (member).
  await row(page, "Benedict").getByRole("combobox", { name: "Role of Benedict" }).selectOption("org");
  await row(page, "Benedict").getByRole("button", { name: "Save Benedict's role" }).click();
  await page.getByRole("dialog").getByRole("button", { name: "Yes, make organization role" }).click();
  await row(page, "Benedict").getByText("Member, direct").waitFor();
  await checkA11y(page, "workspace (a member)");
  await shot(page, "workspace-member");

  // As the API has it.
  const ws = (await apiAs<{ workspaces: Ws[] }>(owner, "GET", `/orgs/${orgId}/workspaces`)).workspaces.find((w) => w.name === name)!;
  const { members } = await apiAs<{ members: { userId: string; role: string | null; effectiveRole: string; via: string[] }[] }>(
    owner,
    "GET",
    `/orgs/${orgId}/workspaces/${ws.id}/members`,
  );
  assert.deepEqual(
    members.map((m) => [m.userId, m.role, m.effectiveRole, m.via]),
    [[ben.sub, null, "member", ["direct"]]],
  );

  // The list says who may open what; at 390 px too.
  await page.getByRole("link", { name: "Back to workspaces" }).click();
  await row(page, name).getByText("Admin through the organization").waitFor();
  await checkA11y(page, "workspaces (one)");
  await shot(page, "workspaces-list");
  await onPhone(page, "workspaces list");
  await row(page, name).getByRole("link", { name }).click();
  await row(page, "Benedict").getByText("Member, direct").waitFor();
  await onPhone(page, "workspace");

  // Remove, confirmed.
  await row(page, "Benedict").getByRole("button", { name: `Remove Benedict from ${name}` }).click();
  await page.getByRole("dialog", { name: `Remove Benedict from ${name}?` }).getByRole("button", { name: "Yes, remove" }).click();
  await page.getByText(`Benedict was removed from ${name}.`).waitFor();
  await page.getByText("No direct members yet.").waitFor();
});

test("a group granted a workspace gives its members access through the group", async () => {
  const owner = person("gloria");
  const cleo = person("cleo");
  const orgId = await orgOf(owner);
  await addMember(owner, orgId, cleo, "member");
  const ws = await workspaceOf(owner, orgId);
  const page = await pageFor(browser(), owner, `/o/${orgId}/groups`);

  // A group, and Cleo in it.
  await page.getByText("No groups yet.").waitFor();
  await checkA11y(page, "groups (none)");
  await page.getByRole("button", { name: "Create group" }).click();
  const groupName = unique("Engineering");
  await page.getByRole("dialog", { name: "Create group" }).getByLabel("Name").fill(groupName);
  await page.getByRole("dialog", { name: "Create group" }).getByRole("button", { name: "Create group" }).click();
  await page.getByRole("heading", { name: groupName, level: 2 }).waitFor();
  await pick(page, page, "Add member", "cle", "Cleo");
  await page.getByText(`Cleo was added to ${groupName}.`).waitFor();
  await row(page, "Cleo").getByText("Member").waitFor();
  await checkA11y(page, "group (one member)");
  await shot(page, "group-page");
  await onPhone(page, "group page");
  await page.getByRole("link", { name: "Back to groups" }).click();
  // The count's own cell: the group's name carries a random suffix that may hold a "1".
  await row(page, groupName).getByRole("cell", { name: "1", exact: true }).waitFor();
  await onPhone(page, "groups list");

  // The workspace, granted to the group: Cleo has access through it.
  await page.goto(`/o/${orgId}/workspaces/${ws.id}`);
  await page.getByText("No group has access to this workspace.").waitFor();
  await page.getByLabel("Grant a group").selectOption({ label: groupName });
  await page.getByLabel("Role of its members").selectOption("member");
  await page.getByRole("button", { name: "Grant access" }).click();
  await row(page, groupName).getByText(`${groupName} was granted access: its members are members here.`).waitFor();
  await row(page, groupName).getByText("1 member").waitFor();
  await checkA11y(page, "workspace (a group granted)");
  await shot(page, "workspace-group");

  // Where Cleo's access comes from, on her page (to an owner) and on the workspace (to her).
  await page.goto(`/o/${orgId}/members/${cleo.sub}`);
  const hers = page.getByRole("region", { name: "Workspaces" });
  await hers.getByRole("listitem").filter({ hasText: ws.name }).getByText(`Member through group ${groupName}`).waitFor();
  await checkA11y(page, "member page (workspaces)");
  await shot(page, "member-workspaces");
  // Her activity in sentences.
  await page.getByText(`Gloria added Cleo to the group “${groupName}”`).waitFor();
  const cleoPage = await pageFor(browser(), cleo, `/o/${orgId}/workspaces`);
  await row(cleoPage, ws.name).getByText(`Member through group ${groupName}`).waitFor();
  await row(cleoPage, ws.name).getByRole("link", { name: ws.name }).click();
  await cleoPage.getByText(`Your access: Member through group ${groupName}.`).waitFor();

  // Also a direct viewer: both sources, the higher role.
  await apiAs(owner, "PUT", `/orgs/${orgId}/workspaces/${ws.id}/members/${cleo.sub}`, { role: "viewer" });
  await page.goto(`/o/${orgId}/workspaces/${ws.id}`);
  await row(page, "Cleo").getByText(`Member, direct and through group ${groupName}`).waitFor();

  // Revoked: the group's members lose it at once (Cleo keeps her direct viewer role).
  await row(page, groupName).getByRole("button", { name: `Revoke ${groupName}'s access` }).click();
  await page.getByRole("dialog", { name: `Revoke ${groupName}'s access to ${ws.name}?` }).getByRole("button", { name: "Yes, revoke" }).click();
  await page.getByText(`${groupName} no longer has access to ${ws.name}.`).waitFor();
  await row(page, "Cleo").getByText("Viewer, direct").waitFor();
});

test("deleting a workspace is confirmed, names it and says access ends at once; it does", async () => {
  const owner = person("dora");
  const eli = person("eli");
  const orgId = await orgOf(owner);
  await addMember(owner, orgId, eli, "member");
  const ws = await workspaceOf(owner, orgId);
  const keep = await workspaceOf(owner, orgId, unique("Keep"));
  await apiAs(owner, "PUT", `/orgs/${orgId}/workspaces/${ws.id}/members/${eli.sub}`, {});
  const eliPage = await pageFor(browser(), eli, `/o/${orgId}/workspaces/${ws.id}`);
  await eliPage.getByText("Your access: Member, direct.").waitFor();

  const page = await pageFor(browser(), owner, `/o/${orgId}/workspaces`);
  await page.getByRole("button", { name: `Actions for ${ws.name}` }).click();
  await page.getByRole("menuitem", { name: "Delete" }).click();
  const dialog = page.getByRole("dialog", { name: `Delete ${ws.name}?` });
  await dialog.getByText(`Everyone loses access to ${ws.name} at once`).waitFor();
  await checkA11y(page, "delete workspace confirmation");
  await shot(page, "workspace-delete");
  // Cancel changes nothing.
  await dialog.getByRole("button", { name: "Cancel" }).click();
  await dialog.waitFor({ state: "detached" });
  await apiAs(eli, "GET", `/orgs/${orgId}/workspaces/${ws.id}`);

  await page.getByRole("button", { name: `Actions for ${ws.name}` }).click();
  await page.getByRole("menuitem", { name: "Delete" }).click();
  await dialog.getByRole("button", { name: "Yes, delete workspace" }).click();
  await page.getByText(`${ws.name} was deleted. Nobody has access to it any more.`).waitFor();
  assert.equal(await row(page, ws.name).count(), 0);
  await row(page, keep.name).waitFor();

  // Eli's access ended at once.
  await eliPage.reload();
  await eliPage.getByText("This workspace does not exist, or you do not have access to it.").waitFor();
  await checkA11y(eliPage, "workspace (deleted)");
});

test("the invite dialog assigns a workspace; the invitee joins it on accepting the emailed link", async () => {
  const owner = person("iris");
  const jude = person("jude");
  const orgId = await orgOf(owner);
  const ws = await workspaceOf(owner, orgId);
  await workspaceOf(owner, orgId, unique("Other"));
  const page = await pageFor(browser(), owner, `/o/${orgId}/members`);

  await page.getByRole("button", { name: "Invite members" }).click();
  const dialog = page.getByRole("dialog", { name: "Invite members" });
  // The dialog loads on demand: typed before it holds the focus, the first keys went to the
  // page (the invitation went to "e-…" for "jude-…").
  await dialog.waitFor();
  await page.waitForFunction(() => document.activeElement?.closest("dialog, [role=dialog]") != null);
  await page.keyboard.type(`${jude.email},`);
  await dialog.getByRole("button", { name: "Assign workspaces" }).click();
  await pick(page, dialog, "Add a workspace or group", ws.name.slice(0, 4), ws.name, "invite dialog (workspace type-ahead)");
  const assigned = dialog.getByRole("list", { name: "Assigned workspaces and groups" });
  await assigned.getByRole("combobox", { name: `Role in ${ws.name}` }).selectOption("viewer");
  await dialog.getByRole("button", { name: "Assign workspaces (1 chosen)" }).waitFor();
  await checkA11y(page, "invite dialog (a workspace assigned)");
  await shot(page, "invite-dialog-workspaces");
  await onPhone(page, "invite dialog with a workspace");
  const since = Math.floor(Date.now() / 1000) - 1;
  await dialog.getByRole("button", { name: "Send invitations" }).click();
  await dialog.getByText("1 invitation queued: it will be emailed shortly.").waitFor();
  await dialog.getByRole("button", { name: "Done" }).click();

  // Before accepting: listed as invited on the workspace.
  await page.goto(`/o/${orgId}/workspaces/${ws.id}`);
  const invited = row(page, jude.email);
  await invited.getByText("Invited").waitFor();
  await invited.getByText("Viewer once they accept").waitFor();
  await checkA11y(page, "workspace (an invitee)");

  // Jude accepts from the email, in a browser of his own, and has the workspace.
  const mail = await latestMail(jude.email, since);
  const invitee = await newPage(browser());
  await invitee.goto(pathOf(mail.acceptUrl));
  await invitee.getByRole("link", { name: "Sign in to accept" }).click();
  await fillSignIn(invitee, jude);
  await invitee.getByRole("button", { name: "Accept" }).click();
  await invitee.getByRole("link", { name: "Workspaces" }).click();
  await row(invitee, ws.name).getByText("Viewer, direct").waitFor();
  await page.reload();
  await row(page, "Jude").getByText("Viewer, direct").waitFor();
  assert.equal(await row(page, "Invited").count(), 0);
});

test("an invite link assigns a group and a workspace; whoever joins with it is in both", async () => {
  const owner = person("lena");
  const kai = person("kai");
  const orgId = await orgOf(owner);
  const ws = await workspaceOf(owner, orgId);
  const groupName = unique("Support");
  await groupOf(owner, orgId, groupName);
  const page = await pageFor(browser(), owner, `/o/${orgId}/links`);
  await page.getByRole("button", { name: "Assign workspaces" }).click();
  const form = page.locator("form.link-form");
  await pick(page, form, "Add a workspace or group", groupName.slice(0, 5), groupName);
  await pick(page, form, "Add a workspace or group", ws.name.slice(0, 4), ws.name);
  await form.getByRole("list", { name: "Assigned workspaces and groups" }).getByRole("listitem").nth(1).waitFor();
  await checkA11y(page, "invite links (assigning)");
  await shot(page, "links-assign");
  await onPhone(page, "invite links assigning");
  const region = page.getByRole("region", { name: "Create invite link" });
  await region.getByRole("button", { name: "Create invite link" }).click();
  const field = region.getByLabel("Invite link");
  await field.waitFor();
  const url = await field.inputValue();
  assert.equal(await page.getByRole("button", { name: "Assign workspaces" }).count(), 1, "the form starts afresh");

  const joiner = await pageFor(browser(), kai, pathOf(url));
  await joiner.getByRole("button", { name: "Accept" }).click();
  await joiner.getByRole("link", { name: "Workspaces" }).click();
  await row(joiner, ws.name).getByText("Viewer, direct").waitFor();
  const { members } = await apiAs<{ members: { userId: string }[] }>(
    owner,
    "GET",
    `/orgs/${orgId}/groups/${(await apiAs<{ groups: { id: string; name: string }[] }>(owner, "GET", `/orgs/${orgId}/groups`)).groups[0]!.id}/members`,
  );
  assert.deepEqual(members.map((m) => m.userId), [kai.sub]);
});

test("a plain member sees no management controls; a workspace admin may rename and manage members, not delete", async () => {
  const owner = person("mona");
  const [nico, vera, wes] = [person("nico"), person("vera"), person("wes")];
  const orgId = await orgOf(owner);
  for (const who of [nico, vera, wes]) await addMember(owner, orgId, who, "member");
  const ws = await workspaceOf(owner, orgId);
  const hidden = await workspaceOf(owner, orgId, unique("Hidden"));
  const groupId = await groupOf(owner, orgId, unique("Design"));
  await apiAs(owner, "PUT", `/orgs/${orgId}/groups/${groupId}/members/${nico.sub}`);
  await apiAs(owner, "PUT", `/orgs/${orgId}/workspaces/${ws.id}/members/${nico.sub}`, {});
  await apiAs(owner, "PUT", `/orgs/${orgId}/workspaces/${ws.id}/members/${vera.sub}`, { role: "admin" });
  await apiAs(owner, "PUT", `/orgs/${orgId}/workspaces/${ws.id}/groups/${groupId}`, { role: "viewer" });

  // Nico, a member: the workspaces he can open, and nothing to change anywhere.
  const page = await pageFor(browser(), nico, `/o/${orgId}/workspaces`);
  await row(page, ws.name).getByText("Member, direct").waitFor();
  assert.equal(await row(page, hidden.name).count(), 0, "a workspace he cannot access is not listed");
  const none = async (what: string) => {
    for (const name of ["Create workspace", "Create group", "Rename", "Delete workspace", "Delete group", "Grant access", "Add", "Load more"]) {
      assert.equal(await page.getByRole("button", { name, exact: true }).count(), 0, `${what}: no ${name}`);
    }
    assert.equal(await page.getByRole("button", { name: /^(Actions for|Remove|Revoke|Save)/ }).count(), 0, `${what}: no row actions`);
    assert.equal(await page.getByRole("combobox").count(), 0, `${what}: no role drop-down or type-ahead`);
  };
  await none("workspaces");
  await checkA11y(page, "workspaces (a member)");
  await shot(page, "workspaces-member");
  await row(page, ws.name).getByRole("link", { name: ws.name }).click();
  await row(page, "Vera").getByText("Admin, direct").waitFor();
  await row(page, "Nico").getByText("Member, direct and through group Design").waitFor();
  await page.getByRole("table", { name: /^Groups with access/ }).getByRole("link", { name: /^Design/ }).waitFor();
  await none("workspace");
  await checkA11y(page, "workspace (a member)");
  await shot(page, "workspace-as-member");
  await page.getByRole("link", { name: "Groups" }).click();
  await page.getByRole("row").filter({ hasText: "Design" }).getByRole("link").click();
  await row(page, "Nico").waitFor();
  await none("group");
  await checkA11y(page, "group (a member)");

  // Vera, the workspace's admin: rename and manage members (not herself, not the owner's
  // access), but no deletion and no group grants.
  const admin = await pageFor(browser(), vera, `/o/${orgId}/workspaces/${ws.id}`);
  await admin.getByText("Your access: Admin, direct.").waitFor();
  assert.equal(await admin.getByRole("button", { name: "Delete workspace" }).count(), 0);
  assert.equal(await admin.getByRole("button", { name: "Grant access" }).count(), 0);
  assert.equal(await admin.getByRole("combobox", { name: "Role of Vera" }).count(), 0, "not her own role");
  await row(admin, "Nico").getByRole("combobox", { name: "Role of Nico" }).waitFor();
  await pick(admin, admin, "Add member", "wes", "Wes");
  await admin.getByRole("button", { name: "Add", exact: true }).click();
  await row(admin, "Wes").getByText("Member, direct").waitFor();
  await admin.getByRole("button", { name: "Rename" }).click();
  const rename = admin.getByRole("dialog", { name: `Rename ${ws.name}` });
  await rename.getByLabel("Name").fill(`${ws.name} 2`);
  await rename.getByRole("button", { name: "Save" }).click();
  await admin.getByRole("heading", { name: `${ws.name} 2`, level: 2 }).waitFor();
  await checkA11y(admin, "workspace (its admin)");
  await shot(admin, "workspace-as-admin");
  await admin.getByRole("link", { name: "Back to workspaces" }).click();
  await admin.getByRole("button", { name: `Actions for ${ws.name} 2` }).click();
  assert.deepEqual(await admin.getByRole("menuitem").allTextContents(), ["Rename"]);
  await admin.keyboard.press("Escape");
});

test("a refusal is said in words: a member already in 100 groups joins no other", async () => {
  const owner = person("petra");
  const quinn = person("quinn");
  const orgId = await orgOf(owner);
  await addMember(owner, orgId, quinn, "member");
  const ids: string[] = [];
  for (let i = 0; i < 101; i++) ids.push(await groupOf(owner, orgId, `Team ${String(i).padStart(3, "0")}`));
  for (const id of ids.slice(0, 100)) await apiAs(owner, "PUT", `/orgs/${orgId}/groups/${id}/members/${quinn.sub}`);
  const page = await pageFor(browser(), owner, `/o/${orgId}/groups/${ids[100]}`);
  await page.getByRole("heading", { name: "Team 100", level: 2 }).waitFor();
  await pick(page, page, "Add member", "quinn", "Quinn");
  await page
    .getByRole("alert")
    .getByText("That would go past a limit of this service: a member may belong to at most 100 groups. Remove something no longer needed first.")
    .waitFor();
  await page.getByText("No members yet.").waitFor();
  await checkA11y(page, "group (limit reached)");
  await shot(page, "group-limit");
  // The list pages: 50 at a time (ids are in the order made), then "Load more".
  await page.getByRole("link", { name: "Back to groups" }).click();
  await row(page, "Team 049").waitFor();
  assert.equal(await row(page, "Team 050").count(), 0);
  await page.getByRole("button", { name: "Load more" }).click();
  await row(page, "Team 099").waitFor();
  await page.getByRole("button", { name: "Load more" }).click();
  await row(page, "Team 100").waitFor();
  await page.getByRole("button", { name: "Load more" }).waitFor({ state: "detached" });
  assert.equal(await page.getByRole("row").count(), 102);
});
