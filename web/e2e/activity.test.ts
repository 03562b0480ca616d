// Activity: the audit trail in sentences, newest first: names for ids, the address of whoever
// declined an invitation, link labels, and what an ownership transfer ended.
import { test } from "node:test";
import assert from "node:assert/strict";
import { apiAs, checkA11y, orgOf, pageFor, person, shot, unique, useBrowser } from "./harness";
import { addMember, inviteByEmail, inviteLink, tokenOf } from "./invite-helpers";

const browser = useBrowser();

test("the Activity tab tells what happened, newest first, with names", async () => {
  const owner = person("alice");
  const bob = person("bob");
  const carol = person("carol");
  const dave = person("dave");
  const erin = person("erin");
  const frank = person("frank");
  const orgName = unique("Activity Co");
  const orgId = await orgOf(owner, orgName);
  await addMember(owner, orgId, bob);
  await apiAs(owner, "PATCH", `/orgs/${orgId}/members/${bob.sub}`, { role: "admin" });
  await addMember(owner, orgId, carol);
  await apiAs(owner, "DELETE", `/orgs/${orgId}/members/${carol.sub}`);
  const { link } = await apiAs<{ link: { url: string } }>(bob, "POST", `/orgs/${orgId}/invite-links`, {
    role: "member",
    maxUses: 5,
    label: "Partners",
  });
  await apiAs(dave, "POST", "/invitations/accept", { token: new URL(link.url).searchParams.get("token") });
  await apiAs(owner, "PATCH", `/orgs/${orgId}/members/${dave.sub}`, { status: "suspended" });
  // Erin is invited and declines.
  const invitation = await inviteByEmail(bob, orgId, erin, "viewer");
  await apiAs(erin, "POST", "/invitations/decline", { token: tokenOf(invitation) });
  // A labelled link made and revoked unused.
  const old = await apiAs<{ link: { id: string } }>(owner, "POST", `/orgs/${orgId}/invite-links`, { label: "Old" });
  await apiAs(owner, "DELETE", `/orgs/${orgId}/invite-links/${old.link.id}`);
  // Alice invites Frank as an admin, makes an admin link, then hands ownership to Bob: as an
  // admin she can no longer grant the admin role, so both end.
  await inviteByEmail(owner, orgId, frank, "admin");
  await inviteLink(owner, orgId, { role: "admin" });
  await apiAs(owner, "POST", `/orgs/${orgId}/transfer-ownership`, { userId: bob.sub });

  const page = await pageFor(browser(), owner, `/o/${orgId}/activity`);
  const list = page.getByRole("list", { name: "Activity, newest first" });
  await list.waitFor();
  const read = async () => (await list.getByRole("listitem").locator(".what").allTextContents()).map((s) => s.trim());
  // Names of people no longer members are looked up (and not found) after the first render.
  const expected = [
    "Alice transferred ownership to Bob and became an admin (ended 1 invitation and 1 link they could no longer grant)",
    "Alice created an invite link to join as an admin (unlimited uses)",
    `Alice invited ${frank.email} as an admin`,
    "Alice revoked the invite link “Old” to join as a viewer (never used)",
    "Alice created the invite link “Old” to join as a viewer (unlimited uses)",
    // Erin never became a member: her address names her.
    `${erin.email} declined the invitation`,
    `Bob invited ${erin.email} as a viewer`,
    "Alice suspended Dave",
    "Dave joined as a member with the invite link “Partners”",
    "Bob created the invite link “Partners” to join as a member (up to 5 uses)",
    // Carol is no longer a member: the address her events recorded names her.
    `Alice removed ${carol.email} from the organization`,
    `${carol.email} accepted the invitation and joined as a member`,
    `Alice invited ${carol.email} as a member`,
    "Alice changed Bob's role from member to admin",
    "Bob accepted the invitation and joined as a member",
    `Alice invited ${bob.email} as a member`,
    `Alice created the organization “${orgName}”`,
  ];
  let lines = await read();
  for (let i = 0; i < 30 && JSON.stringify(lines) !== JSON.stringify(expected); i++) {
    await page.waitForTimeout(100);
    lines = await read();
  }
  assert.deepEqual(lines, expected);
  // Each with its time.
  assert.equal(await list.locator("time[datetime]").count(), lines.length);
  await checkA11y(page, "activity");
  await shot(page, "activity");
  await page.setViewportSize({ width: 390, height: 860 });
  await checkA11y(page, "activity (390 px)");
  await shot(page, "activity-mobile");
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  assert.ok(overflow <= 0, `the page is ${overflow}px wider than the screen`);

  // A member (not an admin) has no Activity tab.
  const fay = person("fay");
  await addMember(bob, orgId, fay);
  const fayPage = await pageFor(browser(), fay, `/o/${orgId}/members`);
  await fayPage.getByRole("link", { name: "Members" }).waitFor();
  assert.equal(await fayPage.getByRole("link", { name: "Activity" }).count(), 0);
});
