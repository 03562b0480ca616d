// Invitation emails leave the request path (API.md, "Email delivery"): the invite dialog says
// an invitation is queued; the members table says each pending invitation's delivery (quiet
// words for queued, sent and delivered; a sentence with Resend and Revoke beside it for a
// bounce, a complaint or a failure); an organization whose invitation emails are paused shows
// why, with "Invite members" held back; and 429 rate_limited / 403 invitations_paused are said
// in words.
//
// Delivery states that the local stack reaches only through SES's events (bounced,
// complained, failed with a reason) and a pause are painted onto the real API's answers in the
// browser (page.route): the tests of what the page shows then do not wait on a way to feed the
// stack SES events. The test at the end feeds one, as SES would send it, to the local stack.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import type { Page, Route } from "playwright-core";
import { apiAs, BASE, checkA11y, latestMail, orgOf, pageFor, person, shot, useBrowser, type Person } from "./harness";

const browser = useBrowser();

type Delivery = { emailDelivery: string; emailDeliveryReason?: string };
type Listed = { id: string; email: string } & Delivery;

const rowOf = (page: Page, email: string) => page.locator("table.roster tbody.invitations tr.invitation").filter({ hasText: email });

/** Invites each address (as `by`, one request); the invitations by address. */
async function invite(by: Person, orgId: string, emails: string[]): Promise<Map<string, Listed>> {
  const { results } = await apiAs<{ results: { email: string; status: string; invitation?: Listed }[] }>(
    by,
    "POST",
    `/orgs/${orgId}/invitations`,
    { invitations: emails.map((email) => ({ email, role: "member" })) },
  );
  for (const r of results) assert.equal(r.status, "invited", `inviting ${r.email}`);
  return new Map(results.map((r) => [r.email, r.invitation!]));
}

/** The mail to `address` since `since`, waiting up to 30 s: the local stack's sender keeps to
 * the account's sending rate (ROSTER_SEND_RATE, 1 a second by default), so a queue that other
 * tests filled takes a while. */
async function mailTo(address: string, since: number) {
  for (let n = 0; ; n++) {
    try {
      return await latestMail(address, since);
    } catch (e) {
      if (n >= 5) throw e;
    }
  }
}

/** Paints delivery states onto the invitations the API lists (by address; others as they are). */
async function paintDelivery(page: Page, orgId: string, states: Map<string, Delivery>): Promise<void> {
  await page.route(
    (url) => url.pathname === `/orgs/${orgId}/invitations`,
    async (route: Route) => {
      if (route.request().method() !== "GET") return route.fallback();
      const response = await route.fetch();
      const body = (await response.json()) as { invitations: Listed[] };
      for (const i of body.invitations) {
        const state = states.get(i.email);
        if (state) {
          delete i.emailDeliveryReason;
          Object.assign(i, state);
        }
      }
      await route.fulfill({ response, json: body });
    },
  );
}

/** Paints a pause onto the organization as the API answers it. */
async function paintPause(page: Page, orgId: string, reason: "bounces" | "complaints"): Promise<void> {
  await page.route(
    (url) => url.pathname === `/orgs/${orgId}`,
    async (route: Route) => {
      if (route.request().method() !== "GET") return route.fallback();
      const response = await route.fetch();
      const body = (await response.json()) as { org: Record<string, unknown> };
      body.org.invitationsPaused = { at: "2026-03-02T09:30:00Z", reason };
      await route.fulfill({ response, json: body });
    },
  );
}

/** A refusal of the API (problem+json), with `headers`. */
const problem = (status: number, code: string, detail: string, headers: Record<string, string> = {}) => ({
  status,
  headers,
  contentType: "application/problem+json",
  body: JSON.stringify({ type: `urn:roster:problem:${code}`, title: "", status, detail, code }),
});

/** Presses Tab until the element named `label` has the focus (at most 80 times). */
async function tabTo(page: Page, label: string): Promise<void> {
  for (let n = 0; n < 80; n++) {
    await page.keyboard.press("Tab");
    const at = await page.evaluate(() => document.activeElement?.getAttribute("aria-label") ?? document.activeElement?.textContent?.trim());
    if (at === label) return;
  }
  assert.fail(`${label} is not reachable with Tab`);
}

test("the invite dialog says queued; the table says Sent or Delivered once the local stack has sent the email", async () => {
  const owner = person("odette");
  const kim = person("kit");
  const org = await orgOf(owner);
  const page = await pageFor(browser(), owner, `/o/${org}/members`);
  await page.getByRole("button", { name: "Invite members" }).click();
  const dialog = page.getByRole("dialog", { name: "Invite members" });
  await dialog.waitFor();
  await page.keyboard.type(`${kim.email},`);
  await dialog.getByRole("button", { name: `Remove ${kim.email}`, exact: true }).waitFor();
  const since = Math.floor(Date.now() / 1000) - 1;
  await dialog.getByRole("button", { name: "Send invitations" }).click();
  await dialog.getByText("1 invitation queued: it will be emailed shortly.").waitFor();
  const result = dialog.getByRole("list", { name: "Results" }).getByRole("listitem").filter({ hasText: kim.email });
  assert.match((await result.textContent()) ?? "", /Invitation queued$/);
  await checkA11y(page, "invite dialog (queued)");
  await shot(page, "invite-dialog-queued");
  await dialog.getByRole("button", { name: "Done" }).click();

  // The local stack sends it (its gateway drains the queue); the page says so once read again.
  await mailTo(kim.email, since);
  const sub = rowOf(page, kim.email).locator("td.person > .sub");
  let said = "";
  for (let n = 0; n < 30 && !/ · (Sent|Delivered)$/.test(said); n++) {
    if (n > 0) {
      await new Promise((r) => setTimeout(r, 500));
      await page.reload();
    }
    await sub.waitFor();
    said = (await sub.textContent()) ?? "";
  }
  assert.match(said, /^Expires .+ · (Sent|Delivered)$/, "a sent email is a quiet word beside the expiry");
  // Nothing is marked as a problem.
  assert.equal(await rowOf(page, kim.email).locator(".delivery-problem").count(), 0);
});

test("each delivery state in words: quiet when it went well, a sentence with Resend and Revoke when it did not", async () => {
  const owner = person("orla");
  const org = await orgOf(owner);
  const who = ["queued", "sent", "delivered", "bounced", "complained", "suppressed", "refused"].map((w) => person(w).email);
  const [queued, sent, delivered, bounced, complained, suppressed, refused] = who;
  await invite(owner, org, who);
  const states = new Map<string, Delivery>([
    [queued!, { emailDelivery: "queued" }],
    [sent!, { emailDelivery: "sent" }],
    [delivered!, { emailDelivery: "delivered" }],
    [bounced!, { emailDelivery: "bounced", emailDeliveryReason: "permanent" }],
    [complained!, { emailDelivery: "complained" }],
    [suppressed!, { emailDelivery: "failed", emailDeliveryReason: "suppressed" }],
    [refused!, { emailDelivery: "failed", emailDeliveryReason: "queue_refused" }],
  ]);
  const page = await pageFor(browser(), owner, `/o/${org}/members`);
  await paintDelivery(page, org, states);
  await page.reload();
  const problemOf = (email: string) => rowOf(page, email).locator(".delivery-problem");
  await problemOf(bounced!).waitFor();

  for (const [email, word] of [[queued, "Sending…"], [sent, "Sent"], [delivered, "Delivered"]] as const) {
    assert.match((await rowOf(page, email!).locator("td.person > .sub").textContent()) ?? "", new RegExp(` · ${word}$`));
    assert.equal(await problemOf(email!).count(), 0, `${email}: no problem shown`);
  }
  const sentences: [string, string][] = [
    [bounced!, `The email to ${bounced} bounced: check the address.`],
    [complained!, `${complained} marked the invitation as spam.`],
    [suppressed!, "The email could not be sent: the address is on the suppression list (it bounced or drew a complaint before)."],
    [refused!, "The email could not be queued: resend it later."],
  ];
  for (const [email, sentence] of sentences) {
    const line = problemOf(email);
    // The sentence, then the buttons.
    assert.equal((await line.textContent())?.replace(/ResendRevoke$/, ""), sentence);
    await line.getByRole("button", { name: `Resend the invitation to ${email}` }).waitFor();
    await line.getByRole("button", { name: `Revoke the invitation to ${email}` }).waitFor();
  }
  await checkA11y(page, "invitations with each delivery state");
  await shot(page, "invitations-delivery-states");
  await page.setViewportSize({ width: 390, height: 860 });
  await checkA11y(page, "invitations with each delivery state (phone)");
  await shot(page, "invitations-delivery-states-phone");
  await page.setViewportSize({ width: 1280, height: 860 });

  // Resend from the keyboard, beside the bounce: the email is queued again.
  await page.locator("main h1").first().focus();
  await tabTo(page, `Resend the invitation to ${bounced}`);
  states.delete(bounced!);
  await page.keyboard.press("Enter");
  await rowOf(page, bounced!).getByText(`Invitation sent again to ${bounced}.`).waitFor();
  assert.equal(await problemOf(bounced!).count(), 0, "the resent invitation is no longer marked");
  assert.match((await rowOf(page, bounced!).locator("td.person > .sub").textContent()) ?? "", / · (Sending…|Sent|Delivered)$/);

  // Revoke beside a complaint: confirmed first, as from the row menu.
  await problemOf(complained!).getByRole("button", { name: `Revoke the invitation to ${complained}` }).click();
  const confirm = page.getByRole("dialog", { name: `Revoke the invitation to ${complained}?` });
  await confirm.getByRole("button", { name: "Yes, revoke invitation" }).click();
  await page.getByText(`The invitation to ${complained} was revoked.`).waitFor();
  await rowOf(page, complained!).waitFor({ state: "detached" });
});

test("a paused organization: a calm notice says why, Invite members is held back, problem rows offer Revoke only", async () => {
  const owner = person("pia");
  const org = await orgOf(owner);
  const [bounced, delivered] = [person("bnc").email, person("dlv").email];
  await invite(owner, org, [bounced, delivered]);
  const page = await pageFor(browser(), owner, `/o/${org}/members`);
  await paintPause(page, org, "bounces");
  await paintDelivery(
    page,
    org,
    new Map([
      [bounced, { emailDelivery: "bounced", emailDeliveryReason: "permanent" }],
      [delivered, { emailDelivery: "delivered" }],
    ]),
  );
  await page.reload();
  const notice = page.locator(".members .paused");
  await notice.waitFor();
  assert.equal(
    (await notice.textContent())?.replace(/\s+/g, " "),
    "Invitation emails are paused since 2 Mar 2026, because too many of them bounced." +
      "No invitation can be sent or resent until whoever runs this service lifts the pause. Invitations already " +
      "delivered still work. Meanwhile, check the addresses below that bounced or were marked as spam.",
  );
  // Held back, focusable still, with the notice as its description; pressing it opens nothing.
  const inviteButton = page.getByRole("button", { name: "Invite members" });
  assert.equal(await inviteButton.getAttribute("aria-disabled"), "true");
  assert.equal(await inviteButton.getAttribute("aria-describedby"), await notice.getAttribute("id"));
  await page.locator("main h1").first().focus();
  await tabTo(page, "Invite members");
  await page.keyboard.press("Enter");
  await inviteButton.click({ force: true });
  assert.equal(await page.getByRole("dialog", { name: "Invite members" }).count(), 0);
  // The bounce is said; only Revoke beside it (a resend would be refused).
  const line = rowOf(page, bounced).locator(".delivery-problem");
  await line.getByRole("button", { name: `Revoke the invitation to ${bounced}` }).waitFor();
  assert.equal(await line.getByRole("button", { name: `Resend the invitation to ${bounced}` }).count(), 0);
  await checkA11y(page, "members (invitation emails paused)");
  await page.evaluate(() => (document.activeElement as HTMLElement | null)?.blur());
  await shot(page, "invitations-paused");

  // Paused for complaints: said so.
  await page.unroute((url) => url.pathname === `/orgs/${org}`);
  await paintPause(page, org, "complaints");
  await page.reload();
  await notice.getByText(/because too many recipients marked them as spam\./).waitFor();
});

test("rate_limited says when to try again; invitations_paused says why nothing was sent", async () => {
  const owner = person("rhea");
  const org = await orgOf(owner);
  const [waiting] = [person("wait").email];
  await invite(owner, org, [waiting]);
  const page = await pageFor(browser(), owner, `/o/${org}/members`);
  const refuse = (answer: ReturnType<typeof problem>) =>
    page.route(
      (url) => url.pathname.startsWith(`/orgs/${org}/invitations`),
      (route: Route) => (route.request().method() === "POST" ? route.fulfill(answer) : route.fallback()),
    );
  const stopRefusing = () => page.unroute((url) => url.pathname.startsWith(`/orgs/${org}/invitations`));

  await refuse(problem(429, "rate_limited", "too many invitation emails this hour", { "Retry-After": "1800" }));
  await page.getByRole("button", { name: "Invite members" }).click();
  const dialog = page.getByRole("dialog", { name: "Invite members" });
  await dialog.waitFor();
  await page.keyboard.type("someone@example.com,");
  await dialog.getByRole("button", { name: "Remove someone@example.com", exact: true }).waitFor();
  await dialog.getByRole("button", { name: "Send invitations" }).click();
  await dialog
    .getByRole("alert")
    .getByText("Too many invitation emails were sent from this organization lately, so nothing was sent. Try again in 30 minutes.")
    .waitFor();
  await checkA11y(page, "invite dialog (rate limited)");
  await shot(page, "invite-dialog-rate-limited");
  await stopRefusing();

  await refuse(problem(403, "invitations_paused", "this organization's invitation emails are paused"));
  await dialog.getByRole("button", { name: "Send invitations" }).click();
  await dialog.getByRole("alert").getByText(/^Nothing was sent: this organization's invitation emails are paused because too many bounced/).waitFor();
  await dialog.getByRole("button", { name: "Cancel" }).click();
  await stopRefusing();

  // Resend from the row menu, refused for the hour: when to try again, in the row.
  await refuse(problem(429, "rate_limited", "too many invitation emails today", { "Retry-After": "7200" }));
  await page.getByRole("button", { name: `Actions for ${waiting}` }).click();
  await page.getByRole("menuitem", { name: "Resend invitation email" }).click();
  await rowOf(page, waiting).getByRole("alert").getByText("Not sent: too many invitation emails lately, try again in about 2 hours.").waitFor();
  await stopRefusing();
});

/** Feeds the local stack's SES-events handler (`POST /_local/ses-events`, with the clock's
 * test features) one of tests/fixtures/ses-events, as SES would send it about an invitation's
 * email: Roster's message tags (organization, invitation, send number) and its address. The
 * send number is not in the API: the first one that moves the invitation is it. */
async function feedSesEvent(orgId: string, invitation: Listed, fixture: string): Promise<void> {
  const event = JSON.parse(readFileSync(new URL(`../../tests/fixtures/ses-events/${fixture}.json`, import.meta.url), "utf8"));
  event.detail.mail.destination = [invitation.email];
  for (let send = 0; send <= 3; send++) {
    event.detail.mail.tags = { "roster-org": [orgId], "roster-invitation": [invitation.id], "roster-send": [String(send)] };
    const response = await fetch(`${BASE}/_local/ses-events`, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify(event),
    });
    const text = await response.text();
    assert.ok(response.ok, `feeding ${fixture}: ${response.status} ${text}`);
    if ((JSON.parse(text) as { moved?: boolean }).moved) return;
  }
  assert.fail(`${fixture} moved no send of ${invitation.email}`);
}

test("a bounce reported by SES (fed to the local stack) shows in words with Resend, and the resend queues it again", async () => {
  const owner = person("bea");
  const kim = person("kim");
  const org = await orgOf(owner);
  const since = Math.floor(Date.now() / 1000) - 1;
  const invitation = (await invite(owner, org, [kim.email])).get(kim.email)!;
  await mailTo(kim.email, since);
  await feedSesEvent(org, invitation, "bounce-permanent");
  const page = await pageFor(browser(), owner, `/o/${org}/members`);
  const line = rowOf(page, kim.email).locator(".delivery-problem");
  await line.getByText(`The email to ${kim.email} bounced: check the address.`).waitFor();
  await checkA11y(page, "members (a bounced invitation)");
  await shot(page, "invitation-bounced");
  await line.getByRole("button", { name: `Resend the invitation to ${kim.email}` }).click();
  await rowOf(page, kim.email).getByText(`Invitation sent again to ${kim.email}.`).waitFor();
  assert.equal(await line.count(), 0, "the resent invitation is no longer marked");
  assert.match((await rowOf(page, kim.email).locator("td.person > .sub").textContent()) ?? "", / · (Sending…|Sent)$/);
});
