// The invitation page: decline, the wrong account, already a member, suspended, an incomplete
// link, opening it twice, a phone screen, and (last: it moves the stack's clock) expiry.
import { test } from "node:test";
import assert from "node:assert/strict";
import { advanceClock, apiAs, checkA11y, newPage, orgOf, pageFor, person, shot, unique, useBrowser } from "./harness";
import { addMember, inviteByEmail, inviteLink, SAYS } from "./invite-helpers";

const browser = useBrowser();

test("an invitee declines; the link then says it was declined", async () => {
  const owner = person("dora");
  const orgName = unique("Decline Co");
  const orgId = await orgOf(owner, orgName);
  const invitee = person("ezra");
  const path = await inviteByEmail(owner, orgId, invitee, "viewer");

  const page = await pageFor(browser(), invitee, path);
  await page.getByRole("heading", { name: `Join ${orgName}` }).waitFor();
  await page.getByText(`Dora invited you to join ${orgName} as a viewer.`).waitFor();
  await page.getByText("Signed in as Ezra").first().waitFor();
  await checkA11y(page, "accept (signed in)");
  await shot(page, "accept-signed-in");

  await page.getByRole("button", { name: "Decline" }).click();
  await page.getByRole("status").getByText("You declined the invitation.").waitFor();
  await checkA11y(page, "accept (declined)");
  await shot(page, "accept-declined");
  // Listed as declined until it expires (API.md).
  const listed = await apiAs<{ invitations: { status: string }[] }>(owner, "GET", `/orgs/${orgId}/invitations`);
  assert.deepEqual(listed.invitations.map((i) => i.status), ["declined"]);

  await page.reload();
  await page.getByRole("heading", { level: 1, name: "Invitation declined" }).waitFor();
  await page.getByText(`This invitation was declined. Ask Dora or another admin of ${orgName} to invite you again.`).waitFor();
  assert.equal(await page.getByRole("button", { name: "Accept" }).count(), 0, "nothing to accept");
  await checkA11y(page, "accept (declined, opened again)");
  await shot(page, "accept-declined-reopened");
});

test("signed in with another address: the sentence names the invited address, and offers to switch", async () => {
  const owner = person("finn");
  const orgId = await orgOf(owner);
  const invitee = person("gail");
  const other = person("hugo");
  const path = await inviteByEmail(owner, orgId, invitee);

  const page = await pageFor(browser(), other, path);
  await page.getByText(`Sent to ${invitee.email}`).waitFor();
  await page.getByRole("button", { name: "Accept" }).click();
  const alert = page.getByRole("alert");
  await alert.waitFor();
  assert.equal(
    await alert.textContent(),
    `This invitation was sent to ${invitee.email}. Sign in with that address to accept it.`,
  );
  assert.equal(await page.getByRole("button", { name: "Accept" }).count(), 0, "accepting again cannot help");
  await checkA11y(page, "accept (email mismatch)");
  await shot(page, "accept-email-mismatch");

  await page.getByRole("button", { name: "Sign out and use another account" }).click();
  await page.getByRole("heading", { name: "Sign in" }).waitFor();
  assert.equal(await page.getByLabel("Email", { exact: true }).inputValue(), invitee.email);
  assert.equal(new URL(page.url()).searchParams.get("next"), path);
  // Nothing was used up: the right person can still accept.
  await apiAs(invitee, "POST", "/invitations/accept", { token: new URL(path, "http://x").searchParams.get("token") });
});

test("opening an invitation twice does not use it; accepting again as a member just opens the organization", async () => {
  const owner = person("iris");
  const orgName = unique("Twice Co");
  const orgId = await orgOf(owner, orgName);
  const invitee = person("jude");
  const path = await inviteByEmail(owner, orgId, invitee);

  // Opened twice while signed out (a mail client's preview, then a click).
  const page = await newPage(browser());
  await page.goto(path);
  await page.getByRole("link", { name: "Sign in to accept" }).waitFor();
  await page.goto(path);
  await page.getByRole("link", { name: "Sign in to accept" }).click();
  await page.getByLabel("User id").fill(invitee.sub);
  await page.getByLabel("Name").fill(invitee.name);
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.getByRole("button", { name: "Accept" }).click();
  await page.getByRole("heading", { name: orgName, exact: true, level: 1 }).waitFor();
  // The mail's link, opened again: it was accepted, and leads into the organization.
  await page.goto(path);
  await page.getByRole("heading", { level: 1, name: "Invitation already accepted" }).waitFor();
  await page.getByText(`This invitation has already been accepted. You are a member of ${orgName}.`).waitFor();
  await checkA11y(page, "accept (accepted, opened again)");
  await shot(page, "accept-accepted-reopened");
  await page.getByRole("link", { name: `Open ${orgName}` }).click();
  await page.waitForURL((u) => u.pathname === `/o/${orgId}/members`);

  // A link: joining, then accepting it again, changes nothing and lands in the organization.
  const link = await inviteLink(owner, orgId, { role: "member" });
  await page.goto(link);
  await page.getByRole("button", { name: "Accept" }).click();
  await page.waitForURL((u) => u.pathname === `/o/${orgId}/members`);
  await page.goto(link);
  await page.getByRole("button", { name: "Accept" }).click();
  await page.getByRole("heading", { name: orgName, exact: true, level: 1 }).waitFor();
  const { links } = await apiAs<{ links: { uses: number }[] }>(owner, "GET", `/orgs/${orgId}/invite-links`);
  assert.equal(links[0]?.uses, 0, "an existing member does not use up the link");
  const { members } = await apiAs<{ members: { userId: string; role: string }[] }>(owner, "GET", `/orgs/${orgId}/members`);
  assert.equal(members.find((m) => m.userId === invitee.sub)?.role, "member");
});

test("a suspended member is told so when accepting an invite link", async () => {
  const owner = person("kim");
  const orgId = await orgOf(owner);
  const member = person("leo");
  await addMember(owner, orgId, member);
  await apiAs(owner, "PATCH", `/orgs/${orgId}/members/${member.sub}`, { status: "suspended" });
  const link = await inviteLink(owner, orgId, { role: "viewer" });

  const page = await pageFor(browser(), member, link);
  await page.getByRole("button", { name: "Accept" }).click();
  await page.getByRole("alert").filter({ hasText: SAYS.suspended }).waitFor();
  assert.equal(await page.getByRole("button", { name: "Accept" }).count(), 0, "nothing to retry");
  await checkA11y(page, "accept (suspended)");
  await shot(page, "accept-suspended");
});

test("an incomplete link says so", async () => {
  const page = await newPage(browser());
  await page.goto("/invite");
  await page.getByRole("alert").filter({ hasText: SAYS.incomplete }).waitFor();
  await checkA11y(page, "accept (incomplete link)");
  await shot(page, "accept-incomplete");
  await page.goto("/invite?token=org_0192f5c4a1b27c3d8e9f0a1b2c3d4e5f.not-a-real-token");
  await page.getByRole("alert").filter({ hasText: SAYS.notFound }).waitFor();
  await checkA11y(page, "accept (no longer valid)");
  await shot(page, "accept-not-found");
});

test("on a phone the invitation reads well", async () => {
  const owner = person("nora");
  const orgId = await orgOf(owner, unique("A rather long organization name, Ltd."));
  const invitee = person("oscar");
  const path = await inviteByEmail(owner, orgId, invitee, "admin");
  const page = await newPage(browser(), 390);
  await page.goto(path);
  await page.getByRole("link", { name: "Sign in to accept" }).waitFor();
  await checkA11y(page, "accept (390 px, signed out)");
  await shot(page, "accept-mobile-signed-out");
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  assert.ok(overflow <= 0, `the page is ${overflow}px wider than the screen`);
});

// Last in this file: the stack's clock stays moved for the rest of the run.
test("an expired invitation says so up front, and who to ask (the stack's clock moved past its expiry)", async () => {
  const owner = person("pia");
  const orgName = unique("Expiry Co");
  const orgId = await orgOf(owner, orgName);
  const invitee = person("quin");
  const path = await inviteByEmail(owner, orgId, invitee, "member", 1);
  await advanceClock(2 * 3600);

  const page = await pageFor(browser(), invitee, path);
  await page.getByRole("heading", { level: 1, name: "Invitation expired" }).waitFor();
  await page.getByText("This invitation has expired.").waitFor();
  await page.getByText(`Ask Pia or another admin of ${orgName} for a new one.`).waitFor();
  await page.getByText(`Pia invited you to join ${orgName} as a member.`).waitFor();
  await page.getByText(/^Expired on /).waitFor();
  assert.equal(await page.getByRole("button", { name: "Accept" }).count(), 0, "nothing to accept");
  assert.equal(await page.getByRole("button", { name: "Decline" }).count(), 0);
  await checkA11y(page, "accept (expired)");
  await shot(page, "accept-expired");

  // Signed out, on a phone: the same, and no way to sign in for nothing.
  const phone = await newPage(browser(), 390);
  await phone.goto(path);
  await phone.getByRole("heading", { level: 1, name: "Invitation expired" }).waitFor();
  assert.equal(await phone.getByRole("link", { name: "Sign in to accept" }).count(), 0);
  await checkA11y(phone, "accept (expired, 390 px)");
  await shot(phone, "accept-expired-mobile");
  const overflow = await phone.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  assert.ok(overflow <= 0, `the page is ${overflow}px wider than the screen`);
});
