// Set-up shared by the invitation tests (invite, links, accept, activity): state that a test
// is not about is made through the API, as the harness's `apiAs` does.
import { apiAs, mailbox, type Mail, type Person } from "./harness";

export type Role = "owner" | "admin" | "member" | "viewer";

/** Invites `who` to `orgId` by email (as `by`); the path of the accept link mailed to them. */
export async function inviteByEmail(by: Person, orgId: string, who: Person | string, role: Role = "member", expiresInHours?: number): Promise<string> {
  const email = typeof who === "string" ? who : who.email;
  const since = Math.floor(Date.now() / 1000) - 1; // the SES emulator stamps mail in seconds
  const answer = await apiAs<{ results: { status: string }[] }>(by, "POST", `/orgs/${orgId}/invitations`, {
    invitations: [{ email, role }],
    ...(expiresInHours ? { expiresInHours } : {}),
  });
  if (answer.results[0]?.status !== "invited") throw new Error(`inviting ${email}: ${answer.results[0]?.status}`);
  // The email is queued and sent at the account's rate: wait for this organization's (the
  // token starts with its id), not an earlier invitation's still on its way.
  for (let i = 0; i < 300; i++) {
    const mail = (await mailbox(email)).filter((m) => m.at >= since && m.acceptUrl.includes(`token=${orgId}.`)).at(-1);
    if (mail) return pathOf(mail.acceptUrl);
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`no invitation to ${orgId} mailed to ${email}`);
}

/** The next mail to `address` once it holds more than `count`: invitation emails are queued
 * and sent at the account's rate (API.md, "Email delivery"), so a resend's mail comes after
 * its answer. Waits up to 30 seconds. */
export async function nextMail(address: string, count: number): Promise<Mail> {
  for (let i = 0; i < 300; i++) {
    const mails = await mailbox(address);
    if (mails.length > count) return mails.at(-1)!;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`no new mail for ${address}`);
}

/** Makes `who` a member of `orgId` with `role` (invited by `by`, accepted through the API). */
export async function addMember(by: Person, orgId: string, who: Person, role: Role = "member"): Promise<void> {
  const path = await inviteByEmail(by, orgId, who, role);
  await apiAs(who, "POST", "/invitations/accept", { token: tokenOf(path) });
}

/** Creates an invite link through the API; its path (`/invite?token=...`). */
export async function inviteLink(by: Person, orgId: string, body: { role?: Role; maxUses?: number } = {}): Promise<string> {
  const { link } = await apiAs<{ link: { url: string } }>(by, "POST", `/orgs/${orgId}/invite-links`, body);
  return pathOf(link.url);
}

/** `/invite?token=...` of an absolute accept URL. */
export function pathOf(url: string): string {
  if (!url) throw new Error("no accept link");
  const u = new URL(url);
  return u.pathname + u.search;
}

export function tokenOf(path: string): string {
  return new URL(path, "http://x").searchParams.get("token") ?? "";
}

/** The sentences of messages.ts the tests look for (kept in one place). */
export const SAYS = {
  notFound: "This invitation is no longer valid",
  expired: "This invitation has expired",
  exhausted: "This invite link has been used as many times as it allows",
  suspended: "Your membership in this organization is suspended",
  incomplete: "This link is incomplete",
};
