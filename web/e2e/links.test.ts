// Invite links: create one (shown once, copied to the clipboard), people join with it until
// its uses run out and its row names them, a revoked link stops working at once, and a link
// whose creator was suspended, removed or demoted says so, in its row and on its page. An
// admin link with a label, made with the keyboard alone: confirmed first, then warned about.
import { test } from "node:test";
import assert from "node:assert/strict";
import type { Page } from "playwright-core";
import { apiAs, checkA11y, newPage, orgOf, pageFor, person, shot, unique, useBrowser } from "./harness";
import { addMember, inviteLink, pathOf, SAYS } from "./invite-helpers";

const browser = useBrowser();

/** The hours between a link's creation and its expiry, as the API stored them. */
async function lifetimes(owner: Parameters<typeof apiAs>[0], orgId: string): Promise<Record<string, number>> {
  const { links } = await apiAs<{ links: { role: string; createdAt: string; expiresAt: string }[] }>(owner, "GET", `/orgs/${orgId}/invite-links`);
  return Object.fromEntries(links.map((l) => [l.role, (Date.parse(l.expiresAt) - Date.parse(l.createdAt)) / 3_600_000]));
}

test("a link with two uses admits two people, shows 2 / 2, then tells a third it is used up", async () => {
  const owner = person("lena");
  const orgName = unique("Two Uses Co");
  const orgId = await orgOf(owner, orgName);
  const page = await pageFor(browser(), owner, `/o/${orgId}/links`);
  await page.getByRole("heading", { name: "Create invite link" }).waitFor();
  await page.getByText("No invite links yet").waitFor();
  await checkA11y(page, "invite links (none)");
  await shot(page, "links-empty");

  const form = page.getByRole("region", { name: "Create invite link" });
  assert.deepEqual(
    await form.getByLabel("Role").locator("option").evaluateAll((os) => os.map((o) => (o as HTMLOptionElement).value)),
    ["owner", "admin", "member", "viewer"],
  );
  // Defaults: the viewer role (the least a link grants, as the API's default), no label, and
  // the deployment's expiry (3 days).
  assert.equal(await form.getByLabel("Role").inputValue(), "viewer");
  assert.equal(await form.getByLabel("Label").inputValue(), "");
  assert.equal(await form.getByLabel("Expires in").locator("option:checked").textContent(), "3 days");
  await form.getByLabel("Role").selectOption("member");
  await form.getByLabel("Maximum uses").fill("2");
  await form.getByRole("button", { name: "Create invite link" }).click();
  const field = form.getByLabel("Invite link");
  await field.waitFor();
  const url = await field.inputValue();
  assert.match(url, /\/invite\?token=org_[^.]+\.[A-Za-z0-9_-]+$/);
  await form.getByText("it won't be shown again").waitFor();
  await form.getByRole("button", { name: "Copy link" }).click();
  await form.getByRole("status").getByText("Link copied").waitFor();
  assert.equal(await page.evaluate(() => navigator.clipboard.readText()), url);
  const row = page.getByRole("row").filter({ hasText: "Member" });
  assert.match((await row.textContent()) ?? "", /Active.*0 \/ 2/);
  assert.deepEqual(await lifetimes(owner, orgId), { member: 72 });
  await checkA11y(page, "invite links (new link shown)");
  await shot(page, "links-new-link");

  for (const name of ["kai", "lou"]) {
    const joiner = await pageFor(browser(), person(name), pathOf(url));
    await joiner.getByText(/invited you to join .* as a member\./).waitFor();
    // A link is for anyone: no "Sent to", and nothing to decline.
    assert.equal(await joiner.getByText("Sent to").count(), 0);
    assert.equal(await joiner.getByRole("button", { name: "Decline" }).count(), 0);
    await joiner.getByRole("button", { name: "Accept" }).click();
    await joiner.waitForURL((u) => u.pathname === `/o/${orgId}/members`);
    if (name === "lou") {
      // Lou opens the link again once it is used up: already a member, so only the way in.
      await joiner.goto(pathOf(url));
      await joiner.getByRole("heading", { level: 1, name: `You're already a member of ${orgName}` }).waitFor();
      await checkA11y(joiner, "accept (used up, already a member)");
      await shot(joiner, "accept-used-up-member");
      await joiner.getByRole("link", { name: `Open ${orgName}` }).click();
      await joiner.waitForURL((u) => u.pathname === `/o/${orgId}/members`);
    }
    await joiner.context().close();
  }

  await page.reload();
  const usedUp = page.getByRole("row").filter({ hasText: "2 / 2" });
  await usedUp.getByText("Used up").waitFor();
  // Who joined through it, from the audit trail.
  await usedUp.getByText("Joined: Kai and Lou", { exact: true }).waitFor();
  await usedUp.getByRole("button", { name: /^Remove member link/ }).waitFor();
  await checkA11y(page, "invite links (used up)");
  await shot(page, "links-used-up");

  const third = await pageFor(browser(), person("mo"), pathOf(url));
  await third.getByRole("heading", { level: 1, name: "Invite link used up" }).waitFor();
  await third.getByText("This invite link has been used as many times as allowed.").waitFor();
  await third.getByText(`Ask Lena or another admin of ${orgName} for a new one.`).waitFor();
  assert.equal(await third.getByRole("button", { name: "Accept" }).count(), 0, "nothing to accept");
  await checkA11y(third, "accept (link used up)");
  await shot(third, "accept-exhausted");

  // The owner takes the used-up link off the list: no warning, as it admits nobody anyway.
  await usedUp.getByRole("button", { name: /^Remove member link/ }).click();
  const confirm = page.getByRole("dialog", { name: "Remove this invite link?" });
  await confirm.getByText("The member link no longer works.").waitFor();
  await confirm.getByRole("button", { name: "Remove link" }).click();
  await page.getByRole("status").getByText("Invite link removed from the list.").waitFor();
  await page.getByText("No invite links yet").waitFor();
});

test("revoking a link asks first, removes it from the list, and the link stops working", async () => {
  const owner = person("rhea");
  const orgId = await orgOf(owner);
  const keep = await inviteLink(owner, orgId, { role: "viewer" });
  const page = await pageFor(browser(), owner, `/o/${orgId}/links`);
  const form = page.getByRole("region", { name: "Create invite link" });
  await form.getByLabel("Role").selectOption("admin");
  await form.getByLabel("Expires in").selectOption({ label: "1 day" });
  await form.getByRole("button", { name: "Create invite link" }).click();
  await page.getByRole("dialog", { name: "Create an admin link?" }).getByRole("button", { name: "Create admin link" }).click();
  const url = await form.getByLabel("Invite link").inputValue();
  assert.ok(url);
  await form.getByText(/Admin link, unlimited uses, valid until/).waitFor();
  const row = page.getByRole("row").filter({ hasText: "Admin" });
  assert.match((await row.textContent()) ?? "", /0 \/ unlimited/);
  assert.deepEqual(await lifetimes(owner, orgId), { viewer: 72, admin: 24 });

  await row.getByRole("button", { name: /^Revoke/ }).click();
  const confirm = page.getByRole("dialog", { name: "Revoke this invite link?" });
  await confirm.waitFor();
  await checkA11y(page, "revoke link dialog");
  await shot(page, "links-revoke-confirm");
  await confirm.getByRole("button", { name: "Yes, revoke link" }).click();
  await confirm.waitFor({ state: "detached" });
  await page.getByRole("status").getByText("Invite link revoked").waitFor();
  assert.equal(await page.getByRole("row").filter({ hasText: "Admin" }).count(), 0);
  // The URL shown at creation is gone with the link.
  assert.equal(await form.getByLabel("Invite link").count(), 0);
  assert.equal(await page.getByRole("row").filter({ hasText: "Viewer" }).count(), 1);

  const visitor = await pageFor(browser(), person("sam"), pathOf(url));
  await visitor.getByRole("alert").filter({ hasText: SAYS.notFound }).waitFor();
  await visitor.getByRole("heading", { name: "Invitation no longer valid" }).waitFor();
  await checkA11y(visitor, "accept (revoked link)");
  await shot(visitor, "accept-revoked-link");
  await page.setViewportSize({ width: 390, height: 860 });
  await checkA11y(page, "invite links (390 px)");
  await shot(page, "links-mobile");
  // The other link still works.
  await visitor.goto(keep);
  await visitor.getByRole("button", { name: "Accept" }).click();
  await visitor.waitForURL((u) => u.pathname === `/o/${orgId}/members`);
});

test("links whose creator was suspended, removed or demoted say why in their row, and on their page", async () => {
  const owner = person("uma");
  const orgName = unique("Standing Co");
  const orgId = await orgOf(owner, orgName);
  const admin = person("bea");
  const leaver = person("cy");
  const coOwner = person("dee");
  await addMember(owner, orgId, admin, "admin");
  await addMember(owner, orgId, leaver, "admin");
  await addMember(owner, orgId, coOwner, "owner");

  // Bea, an admin, creates a member link and copies it.
  const bea = await pageFor(browser(), admin, `/o/${orgId}/links`);
  const form = bea.getByRole("region", { name: "Create invite link" });
  await form.getByLabel("Role").selectOption("member");
  await form.getByRole("button", { name: "Create invite link" }).click();
  const url = await form.getByLabel("Invite link").inputValue();
  await bea.getByRole("row").filter({ hasText: "Active" }).waitFor();
  await bea.context().close();
  // Cy makes a viewer link and is then removed; Dee, an owner, makes an admin link and is
  // then made a member.
  const leaverLink = await inviteLink(leaver, orgId, { role: "viewer" });
  const demotedLink = await inviteLink(coOwner, orgId, { role: "admin" });

  // The owner suspends Bea, removes Cy and demotes Dee.
  await apiAs(owner, "PATCH", `/orgs/${orgId}/members/${admin.sub}`, { status: "suspended" });
  await apiAs(owner, "DELETE", `/orgs/${orgId}/members/${leaver.sub}`);
  await apiAs(owner, "PATCH", `/orgs/${orgId}/members/${coOwner.sub}`, { role: "member" });

  const page = await pageFor(browser(), owner, `/o/${orgId}/links`);
  const suspended = page.getByRole("row").filter({ hasText: /^Member/ });
  await suspended.getByText("Revoked", { exact: true }).waitFor();
  await suspended.getByText("Bea was suspended.").waitFor();
  // Cy left: the list cannot name a removed member.
  const left = page.getByRole("row").filter({ hasText: /^Viewer/ });
  await left.getByText("Its creator left the organization.").waitFor();
  await left.getByText("by a former member").waitFor();
  await page.getByRole("row").filter({ hasText: /^Admin/ }).getByText("Dee can no longer invite people with this role.").waitFor();
  await suspended.getByRole("button", { name: /^Remove member link/ }).waitFor();
  await checkA11y(page, "invite links (revoked)");
  await shot(page, "links-revoked");
  await page.setViewportSize({ width: 390, height: 860 });
  await checkA11y(page, "invite links (revoked, 390 px)");
  await shot(page, "links-revoked-mobile");
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  assert.ok(overflow <= 0, `the list is ${overflow}px wider than the screen`);

  // Someone opens Bea's link: it says why it no longer works, and offers nothing to accept.
  const visitor = await pageFor(browser(), person("eli"), pathOf(url));
  await visitor.getByRole("heading", { level: 1, name: "Invite link no longer works" }).waitFor();
  await visitor.getByText(`This invite link no longer works because Bea's access to ${orgName} was suspended.`).waitFor();
  await visitor.getByText(`Ask an admin of ${orgName} for a new one.`).waitFor();
  assert.equal(await visitor.getByRole("button", { name: "Accept" }).count(), 0, "nothing to accept");
  await checkA11y(visitor, "accept (creator suspended)");
  await shot(visitor, "accept-revoked-creator-suspended");

  // The others, signed out and on a phone.
  const phone = await newPage(browser(), 390);
  await phone.goto(leaverLink);
  await phone.getByText(`This invite link no longer works because Cy left ${orgName}.`).waitFor();
  assert.equal(await phone.getByRole("link", { name: "Sign in to accept" }).count(), 0);
  await checkA11y(phone, "accept (creator left, 390 px)");
  await shot(phone, "accept-revoked-creator-left-mobile");
  await phone.goto(demotedLink);
  await phone.getByText("This invite link no longer works because Dee can no longer invite people with this role.").waitFor();
  // Only an owner may grant the admin role.
  await phone.getByText(`Ask an owner of ${orgName} for a new one.`).waitFor();
  await checkA11y(phone, "accept (creator demoted, 390 px)");
  await shot(phone, "accept-revoked-creator-demoted-mobile");
});

/** Whether the element `locator` finds has the keyboard focus. */
async function focused(locator: ReturnType<Page["getByRole"]>): Promise<boolean> {
  return locator.evaluate((el) => el === document.activeElement);
}

test("with the keyboard alone, an admin link with a label is confirmed first, and its row shows the label and a warning", async () => {
  const owner = person("nia");
  const orgName = unique("Keyboard Co");
  const orgId = await orgOf(owner, orgName);
  const page = await pageFor(browser(), owner, `/o/${orgId}/links`);
  const form = page.getByRole("region", { name: "Create invite link" });
  await page.getByText("No invite links yet").waitFor();
  const label = form.getByLabel("Label");
  // Tab from the top of the page to the Label field.
  for (let i = 0; i < 30 && !(await focused(label)); i++) await page.keyboard.press("Tab");
  assert.ok(await focused(label), "Tab reaches the Label field");

  // A label longer than 100 characters is refused, with the reason, and the field keeps focus.
  await page.keyboard.type("x".repeat(101));
  await form.getByText("101 of 100 characters").waitFor();
  await page.keyboard.press("Enter");
  await form.getByRole("alert").getByText("That was not accepted: the label must be at most 100 characters.", { exact: true }).waitFor();
  assert.equal(await label.getAttribute("aria-invalid"), "true");
  assert.ok(await focused(label));
  // One the API refuses (a zero-width space in it) says the API's reason the same way.
  await page.keyboard.press("ControlOrMeta+A");
  await page.keyboard.type("Sales\u200Bteam");
  await page.keyboard.press("Enter");
  await form
    .getByRole("alert")
    .getByText("That was not accepted: the label must not contain invisible or text-direction characters.", { exact: true })
    .waitFor();
  await checkA11y(page, "invite links (label refused)");
  await shot(page, "links-label-refused");
  assert.deepEqual((await apiAs<{ links: unknown[] }>(owner, "GET", `/orgs/${orgId}/invite-links`)).links, []);

  await page.keyboard.press("ControlOrMeta+A");
  await page.keyboard.type("Board members");
  await page.keyboard.press("Tab");
  const role = form.getByLabel("Role");
  assert.ok(await focused(role));
  // From Viewer up to Admin with the arrow keys.
  await page.keyboard.press("ArrowUp");
  await page.keyboard.press("ArrowUp");
  assert.equal(await role.inputValue(), "admin");
  await page.keyboard.press("Tab"); // Expires in
  await page.keyboard.press("Tab"); // Maximum uses
  await page.keyboard.press("Tab"); // Assign workspaces (left closed)
  await page.keyboard.press("Tab");
  const create = form.getByRole("button", { name: "Create invite link" });
  assert.ok(await focused(create));
  assert.equal(await form.getByRole("alert").count(), 0, "the refusal went with the fix");
  await page.keyboard.press("Enter");

  // The confirmation says what an admin may do; Cancel has the focus, so Enter creates nothing.
  const confirm = page.getByRole("dialog", { name: "Create an admin link?" });
  await confirm
    .getByText(
      "Anyone with this link can join as an admin: they will be able to invite people and remove members. Share it only with people you trust.",
    )
    .waitFor();
  await confirm.getByText("Label: Board members").waitFor();
  await confirm.getByText("It has no limit on uses").waitFor();
  assert.ok(await focused(confirm.getByRole("button", { name: "Cancel" })), "Cancel has the focus");
  await checkA11y(page, "create admin link (confirmation)");
  await shot(page, "links-confirm-admin");
  await page.keyboard.press("Enter");
  await confirm.waitFor({ state: "detached" });
  await page.waitForFunction(() => document.activeElement?.textContent === "Create invite link");
  await page.getByText("No invite links yet").waitFor();
  assert.deepEqual((await apiAs<{ links: unknown[] }>(owner, "GET", `/orgs/${orgId}/invite-links`)).links, []);
  assert.equal(await form.getByLabel("Invite link").count(), 0);

  // Asked again, Tab to the confirming button and Enter: the link is made.
  await page.keyboard.press("Enter");
  await confirm.waitFor();
  await page.keyboard.press("Tab");
  assert.ok(await focused(confirm.getByRole("button", { name: "Create admin link" })));
  await page.keyboard.press("Enter");
  await confirm.waitFor({ state: "detached" });
  // The new link has the focus, selected, ready to copy.
  const made = form.getByLabel("Invite link “Board members”");
  await made.waitFor();
  await page.waitForFunction(() => document.activeElement?.id === document.querySelector(".new-link input")?.id);
  assert.equal(await made.evaluate((el) => (el as HTMLInputElement).selectionEnd), (await made.inputValue()).length);
  const { links } = await apiAs<{ links: { label: string | null; role: string }[] }>(owner, "GET", `/orgs/${orgId}/invite-links`);
  assert.deepEqual(links.map((l) => [l.label, l.role]), [["Board members", "admin"]]);
  // The form is ready for the next link: the label is cleared.
  assert.equal(await label.inputValue(), "");

  const row = page.getByRole("row").filter({ hasText: "Board members" });
  assert.match((await row.getByRole("cell").first().textContent()) ?? "", /^Board membersAdmin/);
  await row.getByText("Anyone with this link can join as an admin. Revoke it once the people it was meant for have joined.").waitFor();
  await row.getByRole("button", { name: /^Revoke admin link “Board members” created/ }).waitFor();
  await checkA11y(page, "invite links (admin link with a label)");
  await shot(page, "links-admin-labelled");
  await page.setViewportSize({ width: 390, height: 860 });
  await checkA11y(page, "invite links (admin link with a label, 390 px)");
  await shot(page, "links-admin-labelled-mobile");
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  assert.ok(overflow <= 0, `the page is ${overflow}px wider than the screen`);
});

test("a link's row names who joined with it, and all of them behind a disclosure", async () => {
  const owner = person("ora");
  const orgId = await orgOf(owner);
  const { link } = await apiAs<{ link: { url: string } }>(owner, "POST", `/orgs/${orgId}/invite-links`, {
    role: "member",
    label: "Spring cohort",
  });
  const token = new URL(link.url).searchParams.get("token");
  const joiners = ["ana", "ben", "cai", "dot", "eve"].map((n) => person(n));
  for (const who of joiners) await apiAs(who, "POST", "/invitations/accept", { token });
  // Eve leaves: her address names her.
  const eve = joiners[4]!;
  await apiAs(eve, "DELETE", `/orgs/${orgId}/members/${eve.sub}`);

  const page = await pageFor(browser(), owner, `/o/${orgId}/links`);
  const row = page.getByRole("row").filter({ hasText: "Spring cohort" });
  const summary = row.locator("summary");
  await summary.getByText("Joined: Ana, Ben and 3 others", { exact: true }).waitFor();
  const all = row.getByRole("list", { name: "All 5 people who joined with this link" });
  assert.equal(await all.isVisible(), false);
  // The disclosure opens with the keyboard.
  await summary.focus();
  await page.keyboard.press("Enter");
  await all.waitFor();
  const names = (await all.getByRole("listitem").allTextContents()).map((t) => t.replace(/\s+\d.*$/, ""));
  assert.deepEqual(names, ["Ana", "Ben", "Cai", "Dot", eve.email]);
  await checkA11y(page, "invite links (who joined, open)");
  await shot(page, "links-joined");
  await page.setViewportSize({ width: 390, height: 860 });
  await shot(page, "links-joined-mobile");
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  assert.ok(overflow <= 0, `the page is ${overflow}px wider than the screen`);
});
