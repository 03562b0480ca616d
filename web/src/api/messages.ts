// Every refusal of the API in a sentence a person understands. The codes are the stable
// `code` of the API's problem+json answers (API.md, "Errors").
import { ApiError } from "./client";

type Context = { invitedEmail?: string | undefined };

const SENTENCES: Record<string, string> = {
  last_owner: "An organization needs at least one active owner. Make someone else an owner first.",
  forbidden: "You don't have permission to do that. Your role may have changed: reload the page to see what you can do.",
  suspended: "Your membership in this organization is suspended. Ask one of its owners or admins to reactivate it.",
  not_found: "That no longer exists, or you no longer have access to it. Reload the page to see what is there now.",
  invitation_not_found: "This invitation is no longer valid. It may have been revoked, replaced by a newer email, or already used.",
  invitation_expired: "This invitation has expired. Ask the person who invited you to send a new one.",
  invitation_incomplete: "This link is incomplete. Open the whole link from your email, or ask for a new one.",
  invitation_exhausted: "This invite link has been used as many times as it allows. Ask for a new link.",
  invitations_paused:
    "Nothing was sent: this organization's invitation emails are paused because too many bounced or were marked as spam. Whoever runs this service can lift the pause; check the addresses meanwhile.",
  already_in_org: "You already belong to another organization, and this service allows only one.",
  seat_limit: "The organization has no free seats. An admin must remove a member or revoke an invitation first.",
  conflict: "Someone changed this at the same time. Reload the page and try again.",
  limit_exceeded: "The organization has reached a limit of this service. Remove something it no longer needs first.",
  role_in_use: "That role is still held by members, invitations or links. Give them another role first.",
  invalid_email: "That email address is not valid. Check it for typos.",
  invalid_role: "That role is not valid. Choose one from the list.",
  invalid_request: "Some of what you entered is not valid. Check it and try again.",
  invalid_json: "The app sent something the service could not read. Reload the page and try again.",
  unsupported_media_type: "The app sent something the service could not read. Reload the page and try again.",
  method_not_allowed: "The app asked for something the service does not offer. Reload the page to get the newest app.",
  invalid_cursor: "The list changed while you read it. Reload the page.",
  email_delivery_failed: "The invitation is saved, but its email could not be queued. Resend it in a moment.",
  unavailable: "The service is busy. Try again in a moment.",
  internal_error: "Something went wrong on the server. Try again in a moment; if it keeps happening, tell whoever runs this service.",
  unauthenticated: "Please sign in again.",
  payload_too_large: "That is too much at once. Send fewer items, or shorter text.",
  network: "The server could not be reached. Check your connection and try again.",
};

/** A sentence for an error that is none of the above. */
const FALLBACK = "Something went wrong. Reload the page and try again.";

export function sentence(error: unknown, context: Context = {}): string {
  if (!(error instanceof ApiError)) return FALLBACK;
  if (error.code === "email_mismatch") {
    return context.invitedEmail
      ? `This invitation was sent to ${context.invitedEmail}. Sign in with that address to accept it.`
      : "This invitation was sent to another email address. Sign in with that address to accept it.";
  }
  if (error.code === "invalid_request" && error.detail) return `That was not accepted: ${withStop(error.detail)}`;
  // What holds a custom role that cannot be deleted ("held by 2 members and 1 invitation").
  if (error.code === "role_in_use" && error.detail)
    return `This role cannot be deleted yet: ${withStop(error.detail)}`;
  // A refusal the app has already put in words.
  if (error.code === "said") return error.detail;
  if (error.code === "rate_limited")
    return `Too many invitation emails were sent from this organization lately, so nothing was sent. Try again ${later(error)}.`;
  // The limit reached, as the API names it ("a member may belong to at most 100 groups").
  if (error.code === "limit_exceeded" && error.detail)
    return `That would go past a limit of this service: ${withStop(error.detail)} Remove something no longer needed first.`;
  return SENTENCES[error.code] ?? (error.status >= 500 ? SENTENCES.internal_error! : FALLBACK);
}

/** When a refusal with `Retry-After` may be tried again, in words: "in 5 minutes". */
export function later(error: ApiError): string {
  const s = error.retryAfter;
  if (s === undefined) return "later";
  if (s < 90) return "in a minute";
  const m = Math.round(s / 60);
  if (m < 60) return `in ${m} minutes`;
  const h = Math.round(s / 3600);
  return h < 2 ? "in about an hour" : `in about ${h} hours`;
}

/** The API's detail as the end of a sentence (a full stop, once). */
const withStop = (detail: string) => (/[.!?]$/.test(detail.trim()) ? detail.trim() : `${detail.trim()}.`);

/** Per-address results of an invitation batch, in words. */
export const INVITE_RESULT: Record<string, string> = {
  invited: "Invitation queued",
  already_member: "Already a member",
  already_invited: "Already invited",
  invalid_email: "Not a valid email address",
  forbidden_role: "You may not grant that role",
  email_failed: "Saved, but the email could not be queued: resend it later",
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

/** One invitation's outcome of "Resend" (alone or for a selection), in words. */
export function resendResult(error: unknown): string {
  if (!(error instanceof ApiError)) return "Not sent: try again";
  if (error.code === "conflict" && /declin/i.test(error.detail)) return "Was declined: invite the address again instead";
  switch (error.code) {
    case "not_found":
      return "Was no longer there: it was accepted or removed meanwhile";
    case "forbidden":
      return "Not sent: you may not grant its role";
    case "seat_limit":
      return "Not sent: no free seat left";
    case "email_delivery_failed":
      return "Saved, but the email could not be queued: resend it later";
    case "invitations_paused":
      return "Not sent: this organization's invitation emails are paused";
    case "rate_limited":
      return `Not sent: too many invitation emails lately, try again ${later(error)}`;
    default:
      return `Not sent: ${sentence(error).replace(/\.$/, "").replace(/^./, (c) => c.toLowerCase())}`;
  }
}

/** One invitation's outcome of "Revoke" or "Remove" (alone or for a selection), in words. */
export function revokeResult(error: unknown): string {
  if (!(error instanceof ApiError)) return "Not revoked: try again";
  switch (error.code) {
    case "not_found":
      return "Was already gone";
    case "forbidden":
      return "Not revoked: you may not grant its role";
    default:
      return `Not revoked: ${sentence(error).replace(/\.$/, "").replace(/^./, (c) => c.toLowerCase())}`;
  }
}
