// Why an invitation or invite link admits nobody any more (`status: "revoked"`), in words: whoever
// made it (or last resent it) left the organization, was suspended, or was demoted (API.md,
// "Roles and rank"). One wording for the invitations and links lists and the invitee's page.
import type { components } from "./api/schema";

export type RevokedReason = components["schemas"]["RevokedReason"];

/** Who made it, as the sentence names them. */
type Creator = { name: string; you: boolean };

function creator(name: string | null, you: boolean): Creator {
  return { name: you ? "you" : (name ?? "its creator"), you };
}

function cause(reason: RevokedReason | undefined, who: Creator): string {
  switch (reason) {
    case "creator_left":
      return `${who.name} left the organization`;
    case "creator_suspended":
      return `${who.name} ${who.you ? "were" : "was"} suspended`;
    case "creator_demoted":
      return `${who.name} can no longer invite people with this role`;
    default:
      return `${who.you ? "your" : `${who.name}'s`} access to the organization changed`;
  }
}

const capital = (text: string) => text.charAt(0).toUpperCase() + text.slice(1);

/**
 * A list's sentence for a revoked invitation or link, from its `revokedReason` and the display
 * name of whoever made (or last resent) it: `revokedSentence("creator_left", "Ana")` →
 * "Revoked because Ana left the organization." `creatorName` null (a name that cannot be
 * resolved, as a removed member's) says "its creator"; `you` when the reader made it.
 */
export function revokedSentence(reason: RevokedReason | undefined, creatorName: string | null, you = false): string {
  return `Revoked because ${cause(reason, creator(creatorName, you))}.`;
}

/** The same reason without "Revoked because", for a place that already says revoked (a
 * status badge): "Ana left the organization." */
export function revokedCause(reason: RevokedReason | undefined, creatorName: string | null, you = false): string {
  return `${capital(cause(reason, creator(creatorName, you)))}.`;
}

/**
 * The invitee's sentence, naming the organization: "This invitation no longer works because
 * Ana left Acme." `inviter` null: "the person who invited you" (a link: "its creator").
 */
export function revokedForInvitee(
  reason: RevokedReason | undefined,
  inviter: string | null,
  org: string,
  what: "invitation" | "invite link" = "invitation",
): string {
  const who = inviter ?? (what === "invitation" ? "the person who invited you" : "its creator");
  switch (reason) {
    case "creator_left":
      return `This ${what} no longer works because ${who} left ${org}.`;
    case "creator_suspended":
      return inviter
        ? `This ${what} no longer works because ${inviter}'s access to ${org} was suspended.`
        : `This ${what} no longer works because ${who} was suspended from ${org}.`;
    case "creator_demoted":
      return `This ${what} no longer works because ${who} can no longer invite people with this role.`;
    default:
      return `This ${what} was revoked.`;
  }
}
