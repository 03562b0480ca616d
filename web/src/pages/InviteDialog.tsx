// "Invite members": role groups (addresses typed or pasted, and the role they get), sent as
// one request; then each address's result in words. Nothing is shown as done before the API
// has answered.
import { useState } from "preact/hooks";
import { api, ok, type InviteResult, type Role } from "../api/client";
import { INVITE_RESULT } from "../api/messages";
import { canInvite, grantable, ROLE_LABEL } from "../roles";
import { Dialog } from "../components/Dialog";
import { ExpirySelect, RoleOptions } from "../components/Fields";
import { ErrorText } from "../components/Status";
import { useAction } from "../components/useAction";
import type { OrgContext } from "./orgContext";

/** At most this many addresses in one request (API.md, "Invite"). */
const MAX_ADDRESSES = 100;

type Group = { key: number; role: Role; text: string };

/** The addresses of a textarea: comma, semicolon, space or newline separated. */
export function addresses(text: string): string[] {
  return text.split(/[\s,;]+/).filter(Boolean);
}

export function InviteButton({ context, onInvited }: { context: OrgContext; onInvited: () => void }) {
  const [open, setOpen] = useState(false);
  if (!canInvite(context.me.role)) return null;
  return (
    <>
      <button type="button" class="primary" onClick={() => setOpen(true)}>
        Invite members
      </button>
      {open && (
        <InviteDialog
          context={context}
          onClose={(sent) => {
            setOpen(false);
            if (sent) onInvited();
          }}
        />
      )}
    </>
  );
}

function InviteDialog({ context, onClose }: { context: OrgContext; onClose: (sent: boolean) => void }) {
  const roles = grantable(context.me.role);
  const firstRole: Role = roles.includes("member") ? "member" : roles[0]!;
  const [groups, setGroups] = useState<Group[]>([{ key: 0, role: firstRole, text: "" }]);
  const [expires, setExpires] = useState("");
  const { busy, error, setError, run } = useAction();
  const [results, setResults] = useState<InviteResult[] | null>(null);

  const entries = groups.flatMap((g) => addresses(g.text).map((email) => ({ email, role: g.role })));
  const tooMany = entries.length > MAX_ADDRESSES;
  // A new group offers the next role not yet used, the lesser ones first.
  const unused = (["member", "viewer", "admin", "owner"] as Role[]).filter(
    (r) => roles.includes(r) && !groups.some((g) => g.role === r),
  );

  const update = (key: number, change: Partial<Group>) =>
    setGroups(groups.map((g) => (g.key === key ? { ...g, ...change } : g)));

  const send = (e: Event) => {
    e.preventDefault();
    if (entries.length === 0) {
      setError("Enter at least one email address.");
      return;
    }
    if (tooMany) return;
    void run(async () => {
      const body = {
        invitations: entries,
        ...(expires ? { expiresInHours: Number(expires) } : {}),
      };
      const answer = await ok(
        api.POST("/orgs/{orgId}/invitations", { params: { path: { orgId: context.org.id } }, body }),
      );
      setResults(answer.results);
    });
  };

  if (results) {
    const invited = results.filter((r) => r.status === "invited").length;
    return (
      <Dialog title="Invite members" wide onClose={() => onClose(true)}>
        <p role="status" class="summary">
          {invited === results.length
            ? `${invited} ${invited === 1 ? "invitation" : "invitations"} sent.`
            : `${invited} of ${results.length} ${results.length === 1 ? "address" : "addresses"} invited.`}
        </p>
        <ul class="results invite-results" aria-label="Results">
          {results.map((r) => (
            <li key={r.email}>
              <span class="address">
                {r.email}
                {r.invitation && <span class="as">as {ROLE_LABEL[r.invitation.role].toLowerCase()}</span>}
              </span>
              <span class={r.status === "invited" ? "good" : "bad"}>{INVITE_RESULT[r.status] ?? INVITE_RESULT.failed}</span>
            </li>
          ))}
        </ul>
        <div class="actions">
          <button type="button" class="primary" onClick={() => onClose(true)}>
            Done
          </button>
        </div>
      </Dialog>
    );
  }

  return (
    <Dialog title="Invite members" wide onClose={() => onClose(false)}>
      <form class="invite" onSubmit={send} noValidate>
        <p class="muted hint">
          Type or paste addresses separated by commas, spaces or new lines. Each group gets the role you choose.
        </p>
        {groups.map((g, i) => (
          <fieldset key={g.key} class="group">
            <legend class={groups.length > 1 ? "" : "sr-only"}>Group {i + 1}</legend>
            <label class="addresses">
              Email addresses
              <textarea
                value={g.text}
                rows={3}
                placeholder="name@example.com, other@example.com"
                onInput={(e) => update(g.key, { text: e.currentTarget.value })}
              />
            </label>
            <div class="group-side">
              <label>
                Role
                <select value={g.role} onChange={(e) => update(g.key, { role: e.currentTarget.value as Role })}>
                  <RoleOptions roles={roles} />
                </select>
              </label>
              {groups.length > 1 && (
                <button
                  type="button"
                  class="link"
                  onClick={() => setGroups(groups.filter((other) => other.key !== g.key))}
                >
                  Remove group
                </button>
              )}
            </div>
          </fieldset>
        ))}
        {unused.length > 0 && (
          <button
            type="button"
            class="secondary small"
            onClick={() => setGroups([...groups, { key: Math.max(...groups.map((g) => g.key)) + 1, role: unused[0]!, text: "" }])}
          >
            Add another role group
          </button>
        )}
        <div class="invite-foot">
          <ExpirySelect value={expires} onChange={setExpires} />
          <p class="muted count" aria-live="polite">
            {entries.length === 0 ? "" : `${entries.length} ${entries.length === 1 ? "address" : "addresses"}`}
          </p>
        </div>
        {tooMany && (
          <p class="error" role="alert">
            You can invite at most {MAX_ADDRESSES} addresses at once; you entered {entries.length}. Send them in
            smaller batches.
          </p>
        )}
        <ErrorText message={error} />
        <div class="actions">
          <button type="button" class="secondary" onClick={() => onClose(false)}>
            Cancel
          </button>
          <button type="submit" class="primary" disabled={busy || tooMany}>
            {busy ? "Sending…" : "Send invitations"}
          </button>
        </div>
      </form>
    </Dialog>
  );
}
