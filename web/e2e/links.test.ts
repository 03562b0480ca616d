// Invite links: create one (shown once, copied to the clipboard), people join with it until
// its uses run out, and a revoked link stops working at once.
import { test } from "node:test";
import assert from "node:assert/strict";
import { apiAs, checkA11y, orgOf, pageFor, person, shot, useBrowser } from "./harness";
import { inviteLink, pathOf, SAYS } from "./invite-helpers";

const browser = useBrowser();

/** The hours between a link's creation and its expiry, as the API stored them. */
async function lifetimes(owner: Parameters<typeof apiAs>[0], orgId: string): Promise<Record<string, number>> {
  const { links } = await apiAs<{ links: { role: string; createdAt: string; expiresAt: string }[] }>(owner, "GET", `/orgs/${orgId}/invite-links`);
  return Object.fromEntries(links.map((l) => [l.role, (Date.parse(l.expiresAt) - Date.parse(l.createdAt)) / 3_600_000]));
}

test("a link with two uses admits two people, shows 2 / 2, then refuses a third", async () => {
  const owner = person("lena");
  const orgId = await orgOf(owner);
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
  // Defaults: the member role, and the deployment's expiry (3 days).
  assert.equal(await form.getByLabel("Role").inputValue(), "member");
  assert.equal(await form.getByLabel("Expires in").locator("option:checked").textContent(), "3 days");
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
  assert.match((await row.textContent()) ?? "", /0 \/ 2/);
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
    await joiner.context().close();
  }

  await page.reload();
  await page.getByRole("row").filter({ hasText: "2 / 2" }).waitFor();
  await page.getByText("Used up").waitFor();
  await checkA11y(page, "invite links (used up)");
  await shot(page, "links-used-up");

  const third = await pageFor(browser(), person("mo"), pathOf(url));
  await third.getByRole("alert").filter({ hasText: SAYS.exhausted }).waitFor();
  await checkA11y(third, "accept (link used up)");
  await shot(third, "accept-exhausted");
  assert.equal(await third.getByRole("button", { name: "Accept" }).count(), 0);
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
