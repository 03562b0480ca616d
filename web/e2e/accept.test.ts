// The invitation page: decline, the wrong account, an address the provider has not
// confirmed, already a member, suspended, an incomplete link, opening it twice, a phone
// screen, and (last: it moves the stack's clock) expiry.
import { test } from "node:test";
import assert from "node:assert/strict";
import { createHmac } from "node:crypto";
import type { Page } from "playwright-core";
import {
  advanceClock,
  apiAs,
  BASE,
  checkA11y,
  fillSignIn,
  newPage,
  orgOf,
  pageFor,
  person,
  shot,
  signIn,
  unique,
  useBrowser,
  type Person,
} from "./harness";
import { addMember, inviteByEmail, inviteLink, SAYS, tokenOf } from "./invite-helpers";

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

/** The page's width is the screen's: nothing scrolls sideways. */
async function fits(page: Page): Promise<void> {
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  assert.ok(overflow <= 0, `the page is ${overflow}px wider than the screen`);
}

/** A token the local gateway accepts, with exactly these claims (signed with its dev secret):
 * for claims its sign-in form cannot give, as another provider's tokens may carry them. */
function tokenWith(claims: Record<string, unknown>): string {
  const part = (v: unknown) => Buffer.from(JSON.stringify(v)).toString("base64url");
  const now = Math.floor(Date.now() / 1000);
  const body = `${part({ alg: "HS256", typ: "JWT" })}.${part({ iat: now, exp: now + 3600, iss: "roster-local", ...claims })}`;
  const secret = process.env.ROSTER_DEV_JWT_SECRET || "roster-dev-secret-for-local-use-only";
  return `${body}.${createHmac("sha256", secret).update(body).digest("base64url")}`;
}

/** A tab signed in with `token`, on `path`. The stored user claims a verified address, so what
 * the page shows comes from the token itself. */
async function pageWithToken(token: string, who: Person, path: string): Promise<Page> {
  const page = await newPage(browser());
  await page.goto("/sign-in");
  await page.evaluate(
    ([t, user]) => sessionStorage.setItem("roster.session", JSON.stringify({ token: t, user })),
    [token, { sub: who.sub, email: who.email, name: who.name, emailVerified: true }] as const,
  );
  await page.goto(path);
  return page;
}

/** What the API answers `token` on accepting the invitation at `path` (status and code). */
async function acceptWith(token: string, path: string): Promise<string> {
  const response = await fetch(`${BASE}/invitations/accept`, {
    method: "POST",
    headers: { Authorization: `Bearer ${token}`, "Content-Type": "application/json" },
    body: JSON.stringify({ token: tokenOf(path) }),
  });
  const body = (await response.json().catch(() => ({}))) as { code?: string };
  return `${response.status} ${body.code ?? ""}`.trim();
}

test("signed in with another address: the page says so before Accept, and switching account leads to accepting", async () => {
  const owner = person("finn");
  const orgName = unique("Switch Co");
  const orgId = await orgOf(owner, orgName);
  const invitee = person("gail");
  const other = person("hugo");
  const path = await inviteByEmail(owner, orgId, invitee);

  const page = await pageFor(browser(), other, path);
  await page.getByRole("heading", { name: `Join ${orgName}` }).waitFor();
  await page.getByText(`This invitation is for ${invitee.email}. You are signed in as ${other.email}.`).waitFor();
  assert.equal(await page.getByRole("button", { name: "Accept" }).count(), 0, "accepting could only fail");
  assert.equal(await page.getByRole("button", { name: "Decline" }).count(), 0, "declining too");
  await checkA11y(page, "accept (another address)");
  await shot(page, "accept-other-address");

  // On a phone, the same.
  const phone = await newPage(browser(), 390);
  await signIn(phone, other, path);
  await phone.getByText(`This invitation is for ${invitee.email}. You are signed in as ${other.email}.`).waitFor();
  await checkA11y(phone, "accept (another address, 390 px)");
  await shot(phone, "accept-other-address-mobile");
  await fits(phone);
  await phone.context().close();

  // A member opening someone else's invitation: already in, with the way in and the switch.
  const member = await pageFor(browser(), owner, path);
  await member.getByRole("heading", { level: 1, name: `You're already a member of ${orgName}` }).waitFor();
  await member.getByText(`This invitation is for ${invitee.email}. You are signed in as ${owner.email}.`).waitFor();
  await member.getByRole("link", { name: `Open ${orgName}` }).waitFor();
  await member.getByRole("button", { name: "Sign out and use another account" }).waitFor();
  await checkA11y(member, "accept (a member, another address)");
  await shot(member, "accept-member-other-address");
  await member.context().close();

  await page.getByRole("button", { name: "Sign out and use another account" }).click();
  await page.getByRole("heading", { name: "Sign in" }).waitFor();
  assert.equal(await page.getByLabel("Email", { exact: true }).inputValue(), invitee.email);
  assert.equal(new URL(page.url()).searchParams.get("next"), path);
  // The invited person signs in here (the address prefilled), and can accept.
  await fillSignIn(page, invitee);
  await page.getByText(`Signed in as ${invitee.name} (${invitee.email}).`).waitFor();
  await page.getByRole("button", { name: "Accept" }).click();
  await page.waitForURL((u) => u.pathname === `/o/${orgId}/members`);
  await page.getByRole("heading", { name: orgName, exact: true, level: 1 }).waitFor();
});

test("an address in other capitals is the same address", async () => {
  const owner = person("cleo");
  const orgId = await orgOf(owner);
  const invitee = person("dana");
  const path = await inviteByEmail(owner, orgId, invitee);
  const shouted = { ...invitee, email: invitee.email.toUpperCase() };
  const page = await pageFor(browser(), shouted, path);
  await page.getByRole("button", { name: "Accept" }).click();
  await page.waitForURL((u) => u.pathname === `/o/${orgId}/members`);
});

test("an address the sign-in provider has not confirmed: the page says so, with the way to sign in again", async () => {
  const owner = person("ines");
  const orgName = unique("Confirm Co");
  const orgId = await orgOf(owner, orgName);
  const invitee = person("jack", false);
  const path = await inviteByEmail(owner, orgId, invitee);
  const says = `Your sign-in provider has not confirmed that you own ${invitee.email}, so this invitation can't be accepted with this account yet. Confirm your address with your provider, or sign in another way.`;

  // Signed in with the box "Email address verified" unticked: `email_verified: false`.
  const page = await pageFor(browser(), invitee, path);
  await page.getByText(says).waitFor();
  assert.equal(await page.getByRole("button", { name: "Accept" }).count(), 0, "accepting could only fail");
  assert.equal(await page.getByText("Sign in with that address").count(), 0);
  await checkA11y(page, "accept (address not confirmed)");
  await shot(page, "accept-unverified");

  const phone = await newPage(browser(), 390);
  await signIn(phone, invitee, path);
  await phone.getByText(says).waitFor();
  await checkA11y(phone, "accept (address not confirmed, 390 px)");
  await shot(phone, "accept-unverified-mobile");
  await fits(phone);
  await phone.context().close();

  // A token without `email_verified` proves no address either; the API agrees with the page.
  const bare = tokenWith({ sub: invitee.sub, email: invitee.email, name: invitee.name });
  assert.equal(await acceptWith(bare, path), "403 email_mismatch");
  const noClaim = await pageWithToken(bare, invitee, path);
  await noClaim.getByText(says).waitFor();
  assert.equal(await noClaim.getByRole("button", { name: "Accept" }).count(), 0);
  await noClaim.context().close();

  // Once confirmed (the provider's `"true"`, as Cognito sends it), signing in again works.
  const confirmed = tokenWith({ sub: invitee.sub, email: invitee.email, name: invitee.name, email_verified: "true" });
  const later = await pageWithToken(confirmed, invitee, path);
  await later.getByRole("button", { name: "Accept" }).waitFor();
  await later.context().close();

  await page.getByRole("button", { name: "Sign out and sign in again" }).click();
  await page.getByRole("heading", { name: "Sign in" }).waitFor();
  assert.equal(await page.getByLabel("Email", { exact: true }).inputValue(), invitee.email);
  await fillSignIn(page, { ...invitee, verified: true });
  await page.getByRole("button", { name: "Accept" }).click();
  await page.waitForURL((u) => u.pathname === `/o/${orgId}/members`);
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
  await page.getByRole("heading", { level: 1, name: `You're already a member of ${orgName}` }).waitFor();
  await page.getByText("This invitation has already been accepted.").waitFor();
  assert.equal(await page.getByRole("button", { name: "Accept" }).count(), 0, "nothing to accept");
  await checkA11y(page, "accept (accepted, opened again)");
  await shot(page, "accept-accepted-reopened");
  await page.getByRole("link", { name: `Open ${orgName}` }).click();
  await page.waitForURL((u) => u.pathname === `/o/${orgId}/members`);

  // A member opening an invite link: nothing to accept, the way in, and the link not used.
  const link = await inviteLink(owner, orgId, { role: "viewer" });
  await page.goto(link);
  await page.getByRole("heading", { level: 1, name: `You're already a member of ${orgName}` }).waitFor();
  await page.getByText("There is nothing to accept.").waitFor();
  assert.equal(await page.getByRole("button", { name: "Accept" }).count(), 0, "nothing to accept");
  await checkA11y(page, "accept (member opens a link)");
  await shot(page, "accept-member-link");
  const phone = await newPage(browser(), 390);
  await signIn(phone, invitee, link);
  await phone.getByRole("heading", { level: 1, name: `You're already a member of ${orgName}` }).waitFor();
  await checkA11y(phone, "accept (member opens a link, 390 px)");
  await shot(phone, "accept-member-link-mobile");
  await fits(phone);
  await phone.context().close();
  await page.getByRole("link", { name: `Open ${orgName}` }).click();
  await page.getByRole("heading", { name: orgName, exact: true, level: 1 }).waitFor();
  const { links } = await apiAs<{ links: { uses: number }[] }>(owner, "GET", `/orgs/${orgId}/invite-links`);
  assert.equal(links[0]?.uses, 0, "an existing member does not use up the link");
  const { members } = await apiAs<{ members: { userId: string; role: string }[] }>(owner, "GET", `/orgs/${orgId}/members`);
  assert.equal(members.find((m) => m.userId === invitee.sub)?.role, "member");
});

test("a suspended member opening an invite link is told so, with nothing to accept", async () => {
  const owner = person("kim");
  const orgId = await orgOf(owner);
  const member = person("leo");
  await addMember(owner, orgId, member);
  await apiAs(owner, "PATCH", `/orgs/${orgId}/members/${member.sub}`, { status: "suspended" });
  const link = await inviteLink(owner, orgId, { role: "viewer" });

  const page = await pageFor(browser(), member, link);
  await page.getByText(SAYS.suspended).waitFor();
  assert.equal(await page.getByRole("button", { name: "Accept" }).count(), 0, "accepting could only fail");
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
  await fits(page);
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
