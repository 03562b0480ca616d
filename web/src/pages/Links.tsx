// Invite links (admins): the organization's links with their status and uses, "Create invite
// link" (its URL is shown once, as the API returns it only then), and "Revoke" (or, for a link
// that no longer works, "Remove"). A link revoked because its creator left, was suspended or
// demoted says so in words.
import { useEffect, useId, useState } from "preact/hooks";
import { api, ok, type InviteLink, type NewInviteLink, type Role } from "../api/client";
import { sentence } from "../api/messages";
import { date, dateTime } from "../format";
import { grantable, ROLE_LABEL } from "../roles";
import { preloadNames } from "../audit";
import { useNames } from "./members/names";
import { revokedCause } from "../revoked";
import { Confirm } from "../components/Dialog";
import { ExpirySelect, RoleOptions } from "../components/Fields";
import { ErrorText, Notice } from "../components/Status";
import { useAction } from "../components/useAction";
import type { OrgContext } from "./orgContext";

/** A link's status as the API gives it, as a badge (the members list's colours). */
const STATUS: Record<InviteLink["status"], { label: string; badge: string }> = {
  active: { label: "Active", badge: "joined" },
  expired: { label: "Expired", badge: "expired" },
  used_up: { label: "Used up", badge: "expired" },
  revoked: { label: "Revoked", badge: "suspended" },
};

/** "1 use, no limit", "2 of 5 uses". */
function uses(link: InviteLink): string {
  if (link.maxUses === null) return `${link.uses} ${link.uses === 1 ? "use" : "uses"}, no limit`;
  return `${link.uses} of ${link.maxUses} ${link.maxUses === 1 ? "use" : "uses"}`;
}

export function Links({ context }: { context: OrgContext }) {
  const orgId = context.org.id;
  const [links, setLinks] = useState<InviteLink[] | null>(null);
  const [cursor, setCursor] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const names = useNames(orgId);
  // The table waits for the members' names, as the activity page does: a row drawn before
  // they arrive would keep showing ids (and "its creator" for a revoked link's reason).
  const [namesReady, setNamesReady] = useState(false);
  const [created, setCreated] = useState<NewInviteLink | null>(null);
  const [revoking, setRevoking] = useState<InviteLink | null>(null);
  const [notice, setNotice] = useState<string | null>(null);

  const load = async (after?: string) => {
    try {
      const page = await ok(
        api.GET("/orgs/{orgId}/invite-links", { params: { path: { orgId }, query: { limit: 50, cursor: after } } }),
      );
      setLinks((old) => [...(after ? (old ?? []) : []), ...page.links]);
      setCursor(page.nextCursor);
      setError(null);
    } catch (e) {
      setError(sentence(e));
    }
  };
  useEffect(() => {
    setNamesReady(false);
    void Promise.all([preloadNames(orgId).then(() => setNamesReady(true)), load()]);
  }, [orgId]);

  const nameOf = (link: InviteLink) => {
    const id = link.createdBy;
    if (id === context.me.userId) return "you";
    // A removed member's name cannot be looked up: their id says nothing to a person.
    return names.known(id) || link.revokedReason !== "creator_left" ? names.name(id) : "a former member";
  };
  const why = (link: InviteLink) =>
    revokedCause(link.revokedReason, names.known(link.createdBy) ? names.name(link.createdBy) : null, link.createdBy === context.me.userId);

  return (
    <div class="links">
      <CreateLink
        context={context}
        created={created}
        onCreated={(link) => {
          setCreated(link);
          setNotice(null);
          void load();
        }}
      />
      <h2 class="list-title">Invite links</h2>
      <Notice message={notice} />
      <ErrorText message={error} />
      {links === null || !namesReady ? (
        !error && <p class="muted">Loading…</p>
      ) : links.length === 0 ? (
        <p class="muted empty">No invite links yet. Create one above to let people join without an email invitation.</p>
      ) : (
        <table class="links-list">
          <thead>
            <tr>
              <th scope="col">Role</th>
              <th scope="col">Status</th>
              <th scope="col" class="optional">
                Uses
              </th>
              <th scope="col" class="optional">
                Expires
              </th>
              <th scope="col" class="optional">
                Created
              </th>
              <th scope="col">
                <span class="sr-only">Actions</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {links.map((link) => (
              <tr key={link.id}>
                <td>
                  {ROLE_LABEL[link.role]}
                  {/* On a phone the uses and expiry columns give way to this line. */}
                  <span class="sub narrow">
                    {uses(link)}, {link.status === "expired" ? "expired" : "expires"} {dateTime(link.expiresAt)}
                  </span>
                </td>
                <td>
                  <span class={`badge ${STATUS[link.status].badge}`}>{STATUS[link.status].label}</span>
                  {link.status === "revoked" && <span class="sub">{why(link)}</span>}
                </td>
                <td class="optional">
                  {link.uses} / {link.maxUses ?? "unlimited"}
                </td>
                <td class="optional">{dateTime(link.expiresAt)}</td>
                <td class="optional">
                  {date(link.createdAt)}
                  <span class="sub">by {nameOf(link)}</span>
                </td>
                <td class="row-actions">
                  {grantable(context.me.role).includes(link.role) && (
                    <button
                      type="button"
                      class="secondary small"
                      aria-label={`${link.status === "active" ? "Revoke" : "Remove"} ${ROLE_LABEL[link.role].toLowerCase()} link created ${dateTime(link.createdAt)}`}
                      onClick={() => setRevoking(link)}
                    >
                      {link.status === "active" ? "Revoke" : "Remove"}
                    </button>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {cursor && (
        <button type="button" class="secondary more" onClick={() => load(cursor)}>
          Load more
        </button>
      )}
      {revoking && (
        <Revoke
          orgId={orgId}
          link={revoking}
          onClose={(done) => {
            setRevoking(null);
            if (done) {
              setLinks((old) => (old ?? []).filter((l) => l.id !== revoking.id));
              if (created?.id === revoking.id) setCreated(null);
              setNotice(
                revoking.status === "active" ? "Invite link revoked. It no longer works." : "Invite link removed from the list.",
              );
            }
          }}
        />
      )}
    </div>
  );
}

function CreateLink({
  context,
  created,
  onCreated,
}: {
  context: OrgContext;
  created: NewInviteLink | null;
  onCreated: (link: NewInviteLink) => void;
}) {
  const roles = grantable(context.me.role);
  const [role, setRole] = useState<Role>(roles.includes("member") ? "member" : roles[0]!);
  const [expires, setExpires] = useState("");
  const [max, setMax] = useState("");
  const { busy, error, setError, run } = useAction();

  const submit = (e: Event) => {
    e.preventDefault();
    const uses = max.trim();
    if (uses && !(Number.isInteger(Number(uses)) && Number(uses) >= 1 && Number(uses) <= 100000)) {
      setError("Maximum uses must be a whole number from 1 to 100,000, or empty for unlimited.");
      return;
    }
    void run(async () => {
      const body = {
        role,
        ...(expires ? { expiresInHours: Number(expires) } : {}),
        ...(uses ? { maxUses: Number(uses) } : {}),
      };
      const answer = await ok(
        api.POST("/orgs/{orgId}/invite-links", { params: { path: { orgId: context.org.id } }, body }),
      );
      onCreated(answer.link);
    });
  };

  return (
    <section class="card create-link" aria-labelledby="create-link-title">
      <h2 id="create-link-title">Create invite link</h2>
      <p class="muted">Anyone with the link can join while it is valid. Share it only with people you trust.</p>
      <form class="link-form" onSubmit={submit} noValidate>
        <label>
          Role
          <select value={role} onChange={(e) => setRole(e.currentTarget.value as Role)}>
            <RoleOptions roles={roles} />
          </select>
        </label>
        <ExpirySelect value={expires} onChange={setExpires} />
        <label>
          Maximum uses
          <input
            type="number"
            min={1}
            max={100000}
            inputMode="numeric"
            placeholder="Unlimited"
            value={max}
            onInput={(e) => setMax(e.currentTarget.value)}
          />
        </label>
        <button type="submit" class="primary" disabled={busy}>
          {busy ? "Creating…" : "Create invite link"}
        </button>
      </form>
      <ErrorText message={error} />
      {created && <NewLink link={created} />}
    </section>
  );
}

function NewLink({ link }: { link: NewInviteLink }) {
  const id = useId();
  const [copied, setCopied] = useState<string | null>(null);
  useEffect(() => setCopied(null), [link.id]);
  const copy = async () => {
    try {
      await navigator.clipboard.writeText(link.url);
      setCopied("Link copied");
    } catch {
      setCopied("Could not copy: select the link and copy it yourself.");
    }
  };
  const uses = link.maxUses === null ? "unlimited uses" : `up to ${link.maxUses} ${link.maxUses === 1 ? "use" : "uses"}`;
  return (
    <div class="new-link">
      <label for={id}>Invite link</label>
      <div class="copy-row">
        <input id={id} readOnly value={link.url} onFocus={(e) => e.currentTarget.select()} />
        <button type="button" class="secondary" onClick={copy}>
          Copy link
        </button>
      </div>
      <p class="muted">
        {ROLE_LABEL[link.role]} link, {uses}, valid until {dateTime(link.expiresAt)}.{" "}
        <strong>Copy it now: it won't be shown again.</strong>
      </p>
      <Notice message={copied} />
    </div>
  );
}

/** Revokes an active link; a link that no longer works is only taken off the list. */
function Revoke({ orgId, link, onClose }: { orgId: string; link: InviteLink; onClose: (done: boolean) => void }) {
  const { busy, error, run } = useAction();
  const revoke = () =>
    run(
      async () => {
        await ok(api.DELETE("/orgs/{orgId}/invite-links/{linkId}", { params: { path: { orgId, linkId: link.id } } }));
        onClose(true);
      },
      { leaving: true },
    );
  const role = ROLE_LABEL[link.role].toLowerCase();
  const active = link.status === "active";
  return (
    <Confirm
      title={active ? "Revoke this invite link?" : "Remove this invite link?"}
      body={
        active ? (
          <p>
            Nobody will be able to join with this {role} link any more. People who already joined with it stay members.
          </p>
        ) : (
          <p>This {role} link no longer works. Removing it only takes it off this list.</p>
        )
      }
      confirm={active ? "Yes, revoke link" : "Remove link"}
      danger={active}
      busy={busy}
      error={error}
      onConfirm={revoke}
      onClose={() => onClose(false)}
    />
  );
}
