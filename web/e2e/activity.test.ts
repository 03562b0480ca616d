// Activity: the audit trail in sentences, newest first.
import { test } from "node:test";
import assert from "node:assert/strict";
import { apiAs, checkA11y, orgOf, pageFor, person, shot, unique, useBrowser } from "./harness";
import { addMember, inviteByEmail, inviteLink } from "./invite-helpers";

const browser = useBrowser();

test("the Activity tab tells what happened, newest first, with names", async () => {
  const owner = person("alice");
  const bob = person("bob");
  const carol = person("carol");
  const dave = person("dave");
  const orgName = unique("Activity Co");
  const orgId = await orgOf(owner, orgName);
  await addMember(owner, orgId, bob);
  await apiAs(owner, "PATCH", `/orgs/${orgId}/members/${bob.sub}`, { role: "admin" });
  await addMember(owner, orgId, carol);
  await apiAs(owner, "DELETE", `/orgs/${orgId}/members/${carol.sub}`);
  const link = await inviteLink(bob, orgId, { role: "member", maxUses: 5 });
  await apiAs(dave, "POST", "/invitations/accept", { token: new URL(link, "http://x").searchParams.get("token") });
  await apiAs(owner, "PATCH", `/orgs/${orgId}/members/${dave.sub}`, { status: "suspended" });
  await inviteByEmail(bob, orgId, "erin@example.com", "viewer");

  const page = await pageFor(browser(), owner, `/o/${orgId}/activity`);
  const list = page.getByRole("list", { name: "Activity, newest first" });
  await list.waitFor();
  const read = async () => (await list.getByRole("listitem").locator(".what").allTextContents()).map((s) => s.trim());
  // Names of people no longer members are looked up (and not found) after the first render.
  const expected = [
    "Bob invited erin@example.com as a viewer",
    "Alice suspended Dave",
    "Dave joined with an invite link as a member",
    "Bob created an invite link to join as a member (up to 5 uses)",
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
  await shot(page, "activity-mobile");

  // A member (not an admin) has no Activity tab.
  const fay = person("fay");
  await addMember(owner, orgId, fay);
  const fayPage = await pageFor(browser(), fay, `/o/${orgId}/members`);
  await fayPage.getByRole("link", { name: "Members" }).waitFor();
  assert.equal(await fayPage.getByRole("link", { name: "Activity" }).count(), 0);
});
