// The bulk bar of the invitations: "Resend selected" and "Revoke selected", each confirmed in
// a dialog that then says every invitation's result in words. The API takes one invitation
// per call: the calls run a few at a time. A declined invitation is never resent (the API
// refuses it: its address is invited again instead), so Resend leaves it out and says so.
import { useEffect, useRef, useState } from "preact/hooks";
import { api, ok, type Invitation } from "../../api/client";
import { resendResult, revokeResult } from "../../api/messages";
import { Dialog } from "../../components/Dialog";
import { resendable, STATUS_LABEL } from "./Invitations";

type Kind = "resend" | "revoke";
/** One invitation's outcome: `after` is the invitation as resent. */
export type BulkResult = { invitation: Invitation; done: boolean; text: string; after?: Invitation };

const plural = (n: number) => `${n} ${n === 1 ? "invitation" : "invitations"}`;
const AT_ONCE = 4;

/** Runs `task` over `items`, `AT_ONCE` at a time, keeping their order. */
async function each<T, R>(items: T[], task: (item: T) => Promise<R>, progress: (done: number) => void): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  let finished = 0;
  const worker = async () => {
    while (next < items.length) {
      const at = next++;
      out[at] = await task(items[at]!);
      progress(++finished);
    }
  };
  await Promise.all(Array.from({ length: Math.min(AT_ONCE, items.length) }, worker));
  return out;
}

export function InvitationBulkBar(props: {
  orgId: string;
  chosen: Invitation[];
  onDone: (kind: Kind, results: BulkResult[]) => void;
}) {
  const [kind, setKind] = useState<Kind | null>(null);
  const { chosen } = props;
  const resend = chosen.filter(resendable);
  if (chosen.length === 0 && !kind) return null;
  return (
    <>
      {chosen.length > 0 && (
        <span class="bulk-bar" role="group" aria-label="Selected invitations">
          {resend.length > 0 && (
            <button type="button" class="secondary" onClick={() => setKind("resend")}>
              Resend selected ({resend.length})
            </button>
          )}
          <button type="button" class="danger" onClick={() => setKind("revoke")}>
            Revoke selected ({chosen.length})
          </button>
        </span>
      )}
      {kind && (
        <BulkInvitations
          orgId={props.orgId}
          kind={kind}
          invitations={kind === "resend" ? resend : chosen}
          left={kind === "resend" ? chosen.filter((i) => !resendable(i)) : []}
          onDone={(results) => props.onDone(kind, results)}
          onClose={() => setKind(null)}
        />
      )}
    </>
  );
}

function BulkInvitations(props: {
  orgId: string;
  kind: Kind;
  invitations: Invitation[];
  /** Chosen, but left out (declined ones, for Resend). */
  left: Invitation[];
  onDone: (results: BulkResult[]) => void;
  onClose: () => void;
}) {
  const { orgId, kind, left } = props;
  // The selection as confirmed: the list behind may change once the results come.
  const [invitations] = useState(props.invitations);
  const [results, setResults] = useState<BulkResult[] | null>(null);
  const [progress, setProgress] = useState<number | null>(null);
  const done = useRef<HTMLButtonElement>(null);
  const resend = kind === "resend";

  // The confirming button is gone once the results show: focus moves to "Done".
  useEffect(() => {
    if (results) done.current?.focus();
  }, [results]);

  const one = async (invitation: Invitation): Promise<BulkResult> => {
    const path = { path: { orgId, invitationId: invitation.id } };
    try {
      if (resend) {
        const answer = await ok(api.POST("/orgs/{orgId}/invitations/{invitationId}/resend", { params: path }));
        return { invitation, done: true, text: "Sent again", after: answer.invitation };
      }
      await ok(api.DELETE("/orgs/{orgId}/invitations/{invitationId}", { params: path }));
      return { invitation, done: true, text: invitation.status === "pending" ? "Revoked" : "Removed from the list" };
    } catch (e) {
      return { invitation, done: false, text: resend ? resendResult(e) : revokeResult(e) };
    }
  };
  const start = async () => {
    setProgress(0);
    const answers = await each(invitations, one, setProgress);
    setResults(answers);
    props.onDone(answers);
  };

  const succeeded = results?.filter((r) => r.done).length ?? 0;
  const title = results
    ? `${resend ? "Resent" : "Revoked"} ${succeeded} of ${plural(invitations.length)}`
    : `${resend ? "Resend" : "Revoke"} ${plural(invitations.length)}?`;
  const allPending = invitations.every((i) => i.status === "pending");

  return (
    <Dialog title={title} onClose={props.onClose}>
      {results ? (
        <ul class="results bulk-results" aria-label="Results">
          {results.map((r) => (
            <li key={r.invitation.id}>
              <span class="address">{r.invitation.email}</span>
              <span class={r.done ? "good" : "bad"}>{r.text}</span>
            </li>
          ))}
        </ul>
      ) : (
        <div class="dialog-body">
          {resend ? (
            <p>
              Each address gets a new email with a new link, valid from now; the links sent before stop working.
              {invitations.some((i) => i.status === "revoked") && " Revoked ones work again, with you standing behind them."}
            </p>
          ) : (
            <p>
              {allPending
                ? "Their links stop working at once."
                : "Pending ones stop working at once; the others already no longer work, and are taken off the list."}{" "}
              You can invite these addresses again later.
            </p>
          )}
          <ul class="bulk-names">
            {invitations.map((i) => (
              <li key={i.id}>
                {i.email}
                {i.status !== "pending" && <span class="muted"> · {STATUS_LABEL[i.status]}</span>}
              </li>
            ))}
          </ul>
          {left.length > 0 && (
            <p class="muted left-out">
              Left out: {left.map((i) => i.email).join(", ")}. {left.length === 1 ? "It was" : "They were"} declined,
              and a declined invitation cannot be sent again: invite the address again instead.
            </p>
          )}
        </div>
      )}
      <p class="progress" role="status">
        {progress !== null && !results ? `${resend ? "Resending" : "Revoking"}: ${progress} of ${invitations.length} done…` : ""}
      </p>
      <div class="actions">
        {results ? (
          <button ref={done} type="button" class="primary" onClick={props.onClose}>
            Done
          </button>
        ) : (
          <>
            <button type="button" class="secondary" onClick={props.onClose}>
              Cancel
            </button>
            <button
              type="button"
              class={resend ? "primary" : "danger"}
              disabled={progress !== null}
              onClick={() => void start()}
            >
              {resend
                ? invitations.length === 1
                  ? "Yes, resend invitation"
                  : "Yes, resend invitations"
                : invitations.length === 1
                  ? "Yes, revoke invitation"
                  : "Yes, revoke invitations"}
            </button>
          </>
        )}
      </div>
    </Dialog>
  );
}
