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

/** Pastes `text` where the focus is, as Ctrl+V does. */
async function paste(page: Page, text: string) {
  await page.evaluate((t) => navigator.clipboard.writeText(t), text);
  await page.keyboard.press("ControlOrMeta+V");
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

  // Focus starts in the address field: what is typed first is kept. A comma ends an address.
  await page.keyboard.type(`${mia.email},`);
  await dialog.getByRole("button", { name: `Remove ${mia.email}`, exact: true }).waitFor();
  // Pasted as people paste: a comma and a line break.
  await paste(page, ` ,\n${noah.email}\n`);
  await dialog.getByRole("button", { name: `Remove ${noah.email}`, exact: true }).waitFor();
  await dialog.getByRole("button", { name: "Add another role group" }).click();
  // The new group's field has the focus.
  await page.keyboard.type(` ${ada.email} ;`);
  await dialog.getByRole("button", { name: `Remove ${ada.email}`, exact: true }).waitFor();
  await dialog.getByLabel("Role").nth(1).selectOption("admin");
  await dialog.getByLabel("Expires in").selectOption({ label: "7 days" });
  await dialog.getByText("3 addresses").waitFor();
  await checkA11y(page, "invite dialog (filled)");
  await shot(page, "invite-dialog-filled");

  await dialog.getByRole("button", { name: "Send invitations" }).click();
  const results = dialog.getByRole("list", { name: "Results" });
  await results.waitFor();
  for (const who of invitees) {
    assert.match((await results.getByRole("listitem").filter({ hasText: who.email }).textContent()) ?? "", /Invitation queued$/);
  }
  // Queued, not yet sent: the email leaves shortly after (API.md, "Email delivery").
  await dialog.getByText("3 invitations queued: they will be emailed shortly.").waitFor();
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

test("addresses become chips as typed or pasted; mistakes are marked before sending; a refused address stays to fix and send again", async () => {
  const owner = person("owen");
  const orgId = await orgOf(owner);
  const invited = person("ivy");
  await inviteByEmail(owner, orgId, invited);
  const [fresh, victor] = [person("finn"), person("victor")];
  const page = await pageFor(browser(), owner, `/o/${orgId}/members`);
  const dialog = await openInvite(page);
  const field = dialog.getByLabel("Email addresses").first();
  const chip = (address: string) =>
    dialog.getByRole("listitem").filter({ has: page.getByRole("button", { name: `Remove ${address}`, exact: true }) });
  const send = dialog.getByRole("button", { name: /^Send/ });
  assert.ok(await field.evaluate((el) => el === document.activeElement), "focus starts in the address field");

  // Over 100 addresses are refused before sending.
  const many = Array.from({ length: 101 }, (_, i) => `p${i}-${unique("x")}@example.com`).join("\n");
  await paste(page, many);
  await dialog.getByText("You can invite at most 100 addresses at once; you entered 101.").waitFor();
  assert.equal(await send.isDisabled(), true);
  for (let i = 0; i < 101; i++) await page.keyboard.press("Backspace");
  await dialog.getByText("You can invite at most 100").waitFor({ state: "detached" });
  assert.equal(await dialog.getByRole("button", { name: /^Remove p/ }).count(), 0, "Backspace removed them all");

  // "Name <address>" is one address, ended by Enter.
  await page.keyboard.type(`Victor Viewer <${victor.email}>`);
  await page.keyboard.press("Enter");
  await chip(victor.email).getByText("Victor Viewer").waitFor();
  // An address ended by a space is checked at once: bob@ is not one, said in words.
  await page.keyboard.type("bob@ ");
  await chip("bob@").getByText("Not a valid email address").waitFor();
  // Likely typos of common domains, each with a one-click fix.
  await page.keyboard.type("ana@gmial.com;");
  await chip("ana@gmial.com").getByText("Did you mean gmail.com?").waitFor();
  await paste(page, "carl@exmaple.con, dee@gmail.con\neve@hotmial.com fay@yahooo.com");
  for (const [address, domain] of [
    ["carl@exmaple.con", "example.com"],
    ["dee@gmail.con", "gmail.com"],
    ["eve@hotmial.com", "hotmail.com"],
    ["fay@yahooo.com", "yahoo.com"],
  ] as const) {
    await chip(address).getByText(`Did you mean ${domain}?`).waitFor();
  }
  await checkA11y(page, "invite dialog (marked addresses)");
  await shot(page, "invite-dialog-chips");
  await page.setViewportSize({ width: 390, height: 860 });
  await checkA11y(page, "invite dialog (marked addresses, 390 px)");
  await shot(page, "invite-dialog-chips-mobile");
  await page.setViewportSize({ width: 1280, height: 860 });

  // Backspace in the empty field removes the last address.
  await field.focus();
  for (const address of ["fay@yahooo.com", "eve@hotmial.com", "dee@gmail.con", "carl@exmaple.con"]) {
    await page.keyboard.press("Backspace");
    await chip(address).waitFor({ state: "detached" });
  }
  // Nothing is sent while an address is not valid.
  const requests: string[] = [];
  page.on("request", (r) => r.method() === "POST" && r.url().endsWith("/invitations") && requests.push(r.url()));
  await send.click();
  await dialog.getByRole("alert").getByText("bob@ is not a valid email address: fix or remove it before sending.").waitFor();
  await dialog.getByRole("button", { name: "Remove bob@", exact: true }).press("Enter");
  await chip("bob@").waitFor({ state: "detached" });
  // A likely typo asks once: fix it, or send anyway.
  await send.click();
  await dialog.getByRole("alert").getByText("ana@gmial.com may be mistyped: use the suggestion, or send anyway.").waitFor();
  await dialog.getByRole("button", { name: "Send anyway" }).waitFor();
  await chip("ana@gmial.com").getByRole("button", { name: "Change to ana@gmail.com" }).click();
  await chip("ana@gmail.com").waitFor();
  await dialog.getByRole("button", { name: "Send invitations" }).waitFor();
  assert.deepEqual(requests, [], "nothing sent yet");

  // The same address in two role groups is pointed out, not silently dropped.
  await dialog.getByRole("button", { name: "Add another role group" }).click();
  await page.keyboard.type(`${victor.email.toUpperCase()} `);
  await dialog.getByRole("listitem").getByText("Also in group 1").waitFor();
  await dialog.getByRole("listitem").getByText("Also in group 2").waitFor();
  await send.click();
  await dialog.getByRole("alert").getByText(`${victor.email} is in two groups: remove it from one of them.`).waitFor();
  await dialog.getByLabel("Email addresses").nth(1).focus();
  await page.keyboard.press("Backspace");
  await dialog.getByRole("listitem").getByText("Also in group 1").waitFor({ state: "detached" });
  await dialog.getByRole("button", { name: "Remove group" }).last().click();

  // An address already invited (in capitals), one already a member, a fresh one, and one
  // only the server refuses (two dots in a row).
  await field.focus();
  await page.keyboard.type(`${invited.email.toUpperCase()} ${owner.email} ${fresh.email} anne..smith@example.com `);
  await dialog.getByText("6 addresses").waitFor();
  await send.click();
  const results = dialog.getByRole("list", { name: "Results" });
  await results.waitFor();
  const said = async (address: string) => (await results.getByRole("listitem").filter({ hasText: address }).textContent()) ?? "";
  assert.match(await said(victor.email), /Invitation queued$/);
  assert.match(await said("ana@gmail.com"), /Invitation queued$/);
  assert.match(await said(invited.email.toUpperCase()), /Already invited$/);
  assert.match(await said(owner.email), /Already a member$/);
  assert.match(await said(fresh.email), /Invitation queued$/);
  assert.equal(await results.getByRole("listitem").count(), 5, "the refused address is not among the results");
  await dialog.getByText("3 of 6 addresses invited. 1 address was not: fix it below and send again.").waitFor();
  await chip("anne..smith@example.com").getByText("Not a valid email address").waitFor();
  await checkA11y(page, "invite dialog (partly sent)");
  await shot(page, "invite-dialog-partly-sent");
  await page.setViewportSize({ width: 390, height: 860 });
  await shot(page, "invite-dialog-partly-sent-mobile");
  await page.setViewportSize({ width: 1280, height: 860 });

  // Its text goes back into the field to be fixed, then it is sent again.
  await chip("anne..smith@example.com").getByRole("button", { name: "Edit anne..smith@example.com" }).click();
  assert.equal(await field.inputValue(), "anne..smith@example.com");
  assert.ok(await field.evaluate((el) => el === document.activeElement), "focus in the field");
  await field.fill("anne.smith@example.com");
  await page.keyboard.press("Enter");
  await dialog.getByRole("button", { name: "Send again" }).click();
  await dialog.getByText("4 of 6 addresses invited.").waitFor();
  assert.match(await said("anne.smith@example.com"), /Invitation queued$/);
  assert.equal(await dialog.getByLabel("Email addresses").count(), 0, "nothing left to fix");
  await checkA11y(page, "invite dialog (all sent)");
  await shot(page, "invite-dialog-mixed-results");
  // Done closes it; the table lists the new invitations.
  await dialog.getByRole("button", { name: "Done" }).press("Enter");
  await dialog.waitFor({ state: "detached" });
  await page.locator("table.roster tbody tr").filter({ hasText: "anne.smith@example.com" }).waitFor();
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
