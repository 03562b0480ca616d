// Every refusal of the API in a sentence a person understands. The codes are the stable
// `code` of the API's problem+json answers (API.md, "Errors").
import { ApiError } from "./client";

type Context = { invitedEmail?: string | undefined };

const SENTENCES: Record<string, string> = {
  last_owner: "An organization needs at least one active owner. Make someone else an owner first.",
  forbidden: "You don't have permission to do that.",
  suspended: "Your membership in this organization is suspended. Ask one of its owners or admins to reactivate it.",
  not_found: "That no longer exists, or you no longer have access to it.",
  invitation_not_found: "This invitation is no longer valid. It may have been revoked, replaced by a newer email, or already used.",
  invitation_expired: "This invitation has expired. Ask the person who invited you to send a new one.",
  invitation_incomplete: "This link is incomplete. Open the whole link from your email, or ask for a new one.",
  invitation_exhausted: "This invite link has been used as many times as it allows. Ask for a new link.",
  already_in_org: "You already belong to another organization, and this service allows only one.",
  seat_limit: "The organization has no free seats. An admin must remove a member or revoke an invitation first.",
  conflict: "Someone changed this at the same time. Refresh and try again.",
  invalid_email: "That email address is not valid.",
  invalid_role: "That role is not valid.",
  invalid_request: "Some of what you entered is not valid.",
  invalid_cursor: "The list changed; reload it.",
  email_delivery_failed: "The email could not be sent. Try again in a moment.",
  unavailable: "The service is busy. Try again in a moment.",
  unauthenticated: "Please sign in again.",
  payload_too_large: "That is too much at once.",
  network: "The server could not be reached. Check your connection and try again.",
};

export function sentence(error: unknown, context: Context = {}): string {
  if (!(error instanceof ApiError)) return "Something went wrong. Try again.";
  if (error.code === "email_mismatch") {
    return context.invitedEmail
      ? `This invitation was sent to ${context.invitedEmail}. Sign in with that address to accept it.`
      : "This invitation was sent to another email address. Sign in with that address to accept it.";
  }
  if (error.code === "invalid_request" && error.detail) return `That was not accepted: ${error.detail}`;
  return SENTENCES[error.code] ?? "Something went wrong. Try again.";
}

/** Per-address results of an invitation batch, in words. */
export const INVITE_RESULT: Record<string, string> = {
  invited: "Invited",
  already_member: "Already a member",
  already_invited: "Already invited",
  invalid_email: "Not a valid email address",
  forbidden_role: "You may not grant that role",
  email_failed: "Invitation saved, but the email could not be sent: resend it later",
  seat_limit: "No free seat left",
  failed: "Could not be saved: try again",
};

/** Per-member results of a bulk removal, in words. */
export const REMOVE_RESULT: Record<string, string> = {
  removed: "Removed",
  not_found: "Was no longer a member",
  forbidden: "You may not remove this member",
  last_owner: "Is the last owner: make someone else an owner first",
  failed: "Could not be removed: try again",
};
