// "Invite members": role groups sent as one request, the results in words, and each invitee
// joining from the link in their email in a browser of their own. Also the email itself.
import { test } from "node:test";
import assert from "node:assert/strict";
import type { Page } from "playwright-core";
import { apiAs, checkA11y, fillSignIn, latestMail, newPage, orgOf, pageFor, person, shot, signIn, unique, useBrowser } from "./harness";
import { addMember, inviteByEmail, pathOf } from "./invite-helpers";

const browser = useBrowser();

async function openInvite(page: Page) {
  await page.getByRole("button", { name: "Invite members" }).click();
  const dialog = page.getByRole("dialog", { name: "Invite members" });
  await dialog.waitFor();
  return dialog;
}

test("an owner invites three people in two role groups; each joins from their email", async () => {
  const owner = person("olivia");
  const invitees = [person("mia"), person("noah"), person("ada")];
  const [mia, noah, ada] = invitees as [typeof owner, typeof owner, typeof owner];
  const page = await newPage(browser());
  await signIn(page, owner);
  const orgName = unique("Northwind");
  await page.getByLabel("Organization name").fill(orgName);
  await page.getByRole("button", { name: "Create organization" }).click();
  await page.getByRole("heading", { name: orgName, exact: true, level: 1 }).waitFor();
  const orgPath = new URL(page.url()).pathname;

  const dialog = await openInvite(page);
  await checkA11y(page, "invite dialog (empty)");
  await shot(page, "invite-dialog-empty");
  // An owner may grant every role.
  assert.deepEqual(await dialog.getByLabel("Role").first().locator("option").evaluateAll((os) => os.map((o) => (o as HTMLOptionElement).value)), ["owner", "admin", "member", "viewer"]);

  // Pasted in the ways people paste: a comma and a newline.
  await dialog.getByLabel("Email addresses").first().fill(`${mia.email},\n${noah.email}`);
  await dialog.getByRole("button", { name: "Add another role group" }).click();
  await dialog.getByLabel("Email addresses").nth(1).fill(` ${ada.email} ;`);
  await dialog.getByLabel("Role").nth(1).selectOption("admin");
  await dialog.getByLabel("Expires in").selectOption({ label: "7 days" });
  await dialog.getByText("3 addresses").waitFor();
  await checkA11y(page, "invite dialog (filled)");
  await shot(page, "invite-dialog-filled");

  await dialog.getByRole("button", { name: "Send invitations" }).click();
  const results = dialog.getByRole("list", { name: "Results" });
  await results.waitFor();
  for (const who of invitees) {
    assert.match((await results.getByRole("listitem").filter({ hasText: who.email }).textContent()) ?? "", /Invited$/);
  }
  await dialog.getByText("3 invitations sent.").waitFor();
  await checkA11y(page, "invite dialog (results)");
  await shot(page, "invite-dialog-results");
  await dialog.getByRole("button", { name: "Done" }).click();
  await dialog.waitFor({ state: "detached" });

  // Each invitee, in a browser of their own, not signed in, opens the link from their email.
  for (const [who, role] of [[mia, "a member"], [noah, "a member"], [ada, "an admin"]] as const) {
    const mail = await latestMail(who.email);
    const invitee = await newPage(browser());
    await invitee.goto(pathOf(mail.acceptUrl));
    await invitee.getByRole("heading", { name: `Join ${orgName}` }).waitFor();
    await invitee.getByText(`Olivia invited you to join ${orgName} as ${role}.`).waitFor();
    await invitee.getByText(`Sent to ${who.email}`).waitFor();
    await invitee.getByText(/This invitation expires on/).waitFor();
    if (who === mia) {
      await checkA11y(invitee, "accept (signed out)");
      await shot(invitee, "accept-signed-out");
    }
    await invitee.getByRole("link", { name: "Sign in to accept" }).click();
    await invitee.getByRole("heading", { name: "Sign in" }).waitFor();
    assert.equal(await invitee.getByLabel("Email", { exact: true }).inputValue(), who.email, "the invited address is prefilled");
    await fillSignIn(invitee, who);
    // Back on the invitation, now signed in.
    await invitee.getByRole("button", { name: "Accept" }).click();
    await invitee.getByRole("heading", { name: orgName, exact: true, level: 1 }).waitFor();
    assert.equal(new URL(invitee.url()).pathname, orgPath);
    await invitee.context().close();
  }

  // The owner's members table lists them as joined.
  await page.reload();
  for (const who of invitees) {
    const row = page.getByRole("row").filter({ hasText: who.name });
    await row.waitFor();
    assert.match((await row.textContent()) ?? "", /Joined/);
  }
  const orgId = orgPath.split("/")[2]!;
  const { members } = await apiAs<{ members: { userId: string; role: string }[] }>(owner, "GET", `/orgs/${orgId}/members`);
  assert.deepEqual(
    invitees.map((w) => members.find((m) => m.userId === w.sub)?.role),
    ["member", "member", "admin"],
  );
});

test("every address gets its result in words, and over 100 addresses are refused before sending", async () => {
  const owner = person("owen");
  const orgId = await orgOf(owner);
  const invited = person("ivy");
  await inviteByEmail(owner, orgId, invited);
  const fresh = person("finn");
  const page = await pageFor(browser(), owner, `/o/${orgId}/members`);
  const dialog = await openInvite(page);

  const many = Array.from({ length: 101 }, (_, i) => `p${i}-${unique("x")}@example.com`).join("\n");
  await dialog.getByLabel("Email addresses").fill(many);
  await dialog.getByText("You can invite at most 100 addresses at once; you entered 101.").waitFor();
  assert.equal(await dialog.getByRole("button", { name: "Send invitations" }).isDisabled(), true);

  await page.setViewportSize({ width: 390, height: 860 });
  await dialog.getByLabel("Email addresses").fill(`not-an-address, ${invited.email.toUpperCase()} ${owner.email} ${fresh.email}`);
  await checkA11y(page, "invite dialog (390 px)");
  await shot(page, "invite-dialog-mobile");
  await dialog.getByRole("button", { name: "Send invitations" }).click();
  const results = dialog.getByRole("list", { name: "Results" });
  await results.waitFor();
  const said = async (address: string) => (await results.getByRole("listitem").filter({ hasText: address }).textContent()) ?? "";
  assert.match(await said("not-an-address"), /Not a valid email address$/);
  assert.match(await said(invited.email.toUpperCase()), /Already invited$/);
  assert.match(await said(owner.email), /Already a member$/);
  assert.match(await said(fresh.email), /Invited$/);
  await dialog.getByText("1 of 4 addresses invited.").waitFor();
  assert.equal(await results.locator(".bad").count(), 3);
  await checkA11y(page, "invite dialog (mixed results, 390 px)");
  await shot(page, "invite-dialog-mixed-results");
  // Escape closes it, as any dialog.
  await page.keyboard.press("Escape");
  await dialog.waitFor({ state: "detached" });
});

test("an admin is offered only the member and viewer roles; a member gets no invite button", async () => {
  const owner = person("opal");
  const admin = person("abe");
  const member = person("max");
  const orgId = await orgOf(owner);
  await addMember(owner, orgId, admin, "admin");
  await addMember(owner, orgId, member, "member");

  const page = await pageFor(browser(), admin, `/o/${orgId}/members`);
  const dialog = await openInvite(page);
  const offered = () =>
    dialog.getByLabel("Role").last().locator("option").evaluateAll((os) => os.map((o) => (o as HTMLOptionElement).value));
  assert.deepEqual(await offered(), ["member", "viewer"]);
  await dialog.getByRole("button", { name: "Add another role group" }).click();
  assert.deepEqual(await offered(), ["member", "viewer"]);
  assert.equal(await dialog.getByLabel("Role").last().inputValue(), "viewer");
  // Both roles are used: no third group.
  assert.equal(await dialog.getByRole("button", { name: "Add another role group" }).count(), 0);
  await dialog.getByRole("button", { name: "Remove group" }).last().click();
  assert.equal(await dialog.getByLabel("Email addresses").count(), 1);
  await dialog.getByRole("button", { name: "Cancel" }).click();

  const memberPage = await pageFor(browser(), member, `/o/${orgId}/members`);
  await memberPage.getByRole("heading", { level: 1 }).waitFor();
  await memberPage.waitForLoadState("networkidle");
  assert.equal(await memberPage.getByRole("button", { name: "Invite members" }).count(), 0);
});

test("the invitation email names the organization, inviter, role and carries the accept button", async () => {
  const owner = person("grace");
  const orgName = unique("Email Co");
  const orgId = await orgOf(owner, orgName);
  const invitee = person("henry");
  await inviteByEmail(owner, orgId, invitee, "viewer");
  const mail = await latestMail(invitee.email);
  assert.ok(mail.html, "the email has an HTML part");

  const page = await newPage(browser(), 800);
  for (const [width, scheme, name] of [
    [320, "light", "email-320"],
    [800, "light", "email-800"],
    [800, "dark", "email-800-dark"],
    [320, "dark", "email-320-dark"],
  ] as const) {
    await page.setViewportSize({ width, height: 900 });
    await page.emulateMedia({ colorScheme: scheme });
    await page.setContent(mail.html);
    await shot(page, name);
    const body = (await page.locator("body").innerText()).replace(/\s+/g, " ");
    assert.ok(body.includes(orgName), "names the organization");
    assert.ok(body.includes("Grace"), "names the inviter");
    assert.match(body, /viewer/i, "names the role");
    const button = page.getByRole("link", { name: "Accept invitation" });
    assert.equal(await button.count(), 1, "one “Accept invitation” link");
    assert.equal(await button.getAttribute("href"), mail.acceptUrl);
    // Nothing wider than the screen (no sideways scrolling on a phone).
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    assert.ok(overflow <= 0, `the email is ${overflow}px wider than ${width}px`);
  }
});
