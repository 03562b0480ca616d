// An invitation email's problems in words (API.md, "Email delivery"): a bounce, a complaint or
// a failure is a sentence that says what happened and what to do; and why an organization's
// invitation emails are paused. Words only (no component, so that this chunk shares no code
// with the app's): loaded when there is one of these to show (useDelivery in Invitations.tsx).
// Queued, sent and delivered are quiet words there.
import type { Invitation } from "../../api/client";

/** What went wrong with the last email, in a sentence (no full stop); null when nothing did. */
export function deliveryProblem(i: Invitation): string | null {
  const reason = i.emailDeliveryReason;
  switch (i.emailDelivery) {
    case "bounced":
      return reason === "transient"
        ? `The email to ${i.email} bounced for now (a full or unavailable mailbox): resend it later`
        : `The email to ${i.email} bounced: check the address`;
    case "complained":
      return `${i.email} marked the invitation as spam`;
    case "failed":
      return `The email could not be ${FAILED[reason ?? ""] ?? "sent: resend it later"}`;
    default:
      return null;
  }
}

const FAILED: Record<string, string> = {
  queue_refused: "queued: resend it later",
  suppressed: "sent: the address is on the suppression list (it bounced or drew a complaint before)",
  rejected: "sent: the email service rejected it",
  rendering_failure: "put together: tell whoever runs this service",
  attempts_exhausted: "sent after several tries: resend it later",
  paused: "sent: this organization's invitation emails were paused first",
};

/** The notice of a pause: why (after "Invitation emails are paused since <date>"), and what
 * it means. */
export const paused = (reason: "bounces" | "complaints"): [string, string] => [
  `, because too many ${reason === "complaints" ? "recipients marked them as spam" : "of them bounced"}.`,
  "No invitation can be sent or resent until whoever runs this service lifts the pause. Invitations already " +
    "delivered still work. Meanwhile, check the addresses below that bounced or were marked as spam.",
];
