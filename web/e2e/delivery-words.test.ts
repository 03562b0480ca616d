// The words of invitation email delivery (no browser and no stack: the modules alone): every
// problem state and reason of the contract has its sentence, and Retry-After is said as a time.
import { test } from "node:test";
import assert from "node:assert/strict";
import type { Invitation } from "../src/api/client";
import { deliveryProblem, paused } from "../src/pages/members/delivery";

// messages.ts reaches the app's router, which listens to the window at import: a stand-in.
(globalThis as { addEventListener?: unknown }).addEventListener ??= () => {};
const { ApiError } = await import("../src/api/client");
const { INVITE_RESULT, later, resendResult, sentence } = await import("../src/api/messages");

const email = "kim@example.com";
const with_ = (emailDelivery: Invitation["emailDelivery"], emailDeliveryReason?: Invitation["emailDeliveryReason"]) =>
  ({ email, emailDelivery, ...(emailDeliveryReason ? { emailDeliveryReason } : {}) }) as Invitation;

test("queued, sent and delivered are no problem", () => {
  for (const d of ["queued", "sent", "delivered"] as const) assert.equal(deliveryProblem(with_(d)), null);
});

test("each bounce, complaint and failure has its sentence", () => {
  assert.equal(deliveryProblem(with_("bounced", "permanent")), `The email to ${email} bounced: check the address`);
  assert.equal(deliveryProblem(with_("bounced", "undetermined")), `The email to ${email} bounced: check the address`);
  assert.equal(deliveryProblem(with_("bounced")), `The email to ${email} bounced: check the address`);
  assert.match(deliveryProblem(with_("bounced", "transient"))!, /bounced for now .*: resend it later$/);
  assert.equal(deliveryProblem(with_("complained")), `${email} marked the invitation as spam`);
  const failed: [Invitation["emailDeliveryReason"], string][] = [
    ["queue_refused", "The email could not be queued: resend it later"],
    ["suppressed", "The email could not be sent: the address is on the suppression list (it bounced or drew a complaint before)"],
    ["rejected", "The email could not be sent: the email service rejected it"],
    ["rendering_failure", "The email could not be put together: tell whoever runs this service"],
    ["attempts_exhausted", "The email could not be sent after several tries: resend it later"],
    ["paused", "The email could not be sent: this organization's invitation emails were paused first"],
    [undefined, "The email could not be sent: resend it later"],
  ];
  for (const [reason, words] of failed) assert.equal(deliveryProblem(with_("failed", reason)), words, String(reason));
});

test("a pause says why", () => {
  assert.match(paused("bounces")[0], /too many of them bounced\.$/);
  assert.match(paused("complaints")[0], /too many recipients marked them as spam\.$/);
});

test("Retry-After in words, and the refusals that use it", () => {
  const limited = (s?: number) => new ApiError(429, "rate_limited", "", s);
  assert.equal(later(limited()), "later");
  assert.equal(later(limited(30)), "in a minute");
  assert.equal(later(limited(1800)), "in 30 minutes");
  assert.equal(later(limited(3599)), "in about an hour");
  assert.equal(later(limited(7200)), "in about 2 hours");
  assert.equal(
    sentence(limited(600)),
    "Too many invitation emails were sent from this organization lately, so nothing was sent. Try again in 10 minutes.",
  );
  assert.equal(resendResult(limited(600)), "Not sent: too many invitation emails lately, try again in 10 minutes");
  assert.match(sentence(new ApiError(403, "invitations_paused", "")), /^Nothing was sent: this organization's invitation emails are paused/);
  assert.equal(resendResult(new ApiError(502, "email_delivery_failed", "")), "Saved, but the email could not be queued: resend it later");
  assert.equal(INVITE_RESULT.invited, "Invitation queued");
  assert.equal(INVITE_RESULT.email_failed, "Saved, but the email could not be queued: resend it later");
});
