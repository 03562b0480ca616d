// Invite links (admins): the organization's links with their label, status, uses and who
// joined through them, "Create invite link" (its URL is shown once, as the API returns it only
// then; an owner or admin link is confirmed first, and its row warns while it works), and
// "Revoke" (or, for a link that no longer works, "Remove"). A link revoked because its creator
// left, was suspended or demoted says so in words.
import "./links/links.css";
import { useEffect, useId, useRef, useState } from "preact/hooks";
import { api, ApiError, ok, type InviteLink, type NewInviteLink, type Role } from "../api/client";
import { sentence } from "../api/messages";
import { date, dateTime, listed } from "../format";
import { grantable, ROLE_LABEL } from "../roles";
import { resolveNames, useNames } from "./members/names";
import { revokedCause } from "../revoked";
import { Confirm, Dialog } from "../components/Dialog";
import { ExpirySelect, RoleSelect } from "../components/Fields";
import { baseOf, roleName, useCustomRoles, useRoleChoices } from "../customRoles";
import { ErrorText, Notice } from "../components/Status";
import { useAction } from "../components/useAction";
import { useJoins, type Join } from "./links/joins";
import { AssignSection } from "./workspaces/AssignSection";
import { assignment, type Assigned } from "./workspaces/assigned";
import type { OrgContext } from "./orgContext";

/** A link's status as the API gives it, as a badge (the members list's colours). */
const STATUS: Record<InviteLink["status"], { label: string; badge: string }> = {
  active: { label: "Active", badge: "joined" },
  expired: { label: "Expired", badge: "expired" },
  used_up: { label: "Used up", badge: "expired" },
  revoked: { label: "Revoked", badge: "suspended" },
};

/** A label's most characters (API.md: 1–100, one line). */
const LABEL_MAX = 100;

const privileged = (role: Role) => role === "owner" || role === "admin";

/** What a person who joins with an owner or admin link may do, for its confirmation. */
function privilegeWarning(role: Role, orgName: string): string {
  return role === "owner"
    ? `Anyone with this link can join as an owner: they will be able to do everything in ${orgName}, including deleting the organization and managing other owners. Share it only with people you trust.`
    : "Anyone with this link can join as an admin: they will be able to invite people and remove members. Share it only with people you trust.";
}

/** "1 use, no limit", "2 of 5 uses". */
function uses(link: InviteLink): string {
  if (link.maxUses === null) return `${link.uses} ${link.uses === 1 ? "use" : "uses"}, no limit`;
  return `${link.uses} of ${link.maxUses} ${link.maxUses === 1 ? "use" : "uses"}`;
}

/** A link as a sentence or a button's name calls it: "the admin link “Sales team”". */
function linkTitle(link: InviteLink): string {
  const role = `${ROLE_LABEL[link.role].toLowerCase()} link`;
  return link.label ? `${role} “${link.label}”` : role;
}

/** A refusal of the form, in words; the API's reason for a field it names is said in full:
 * "That was not accepted: the label must be at most 100 characters." */
function refusal(e: unknown): { message: string; field?: "label" | "uses" } {
  if (e instanceof ApiError && e.code === "invalid_request") {
    const field = /^(label|maxUses) (.*)$/.exec(e.detail.trim().replace(/\.$/, ""));
    if (field?.[1] === "label") return { message: `That was not accepted: the label ${field[2]}.`, field: "label" };
    if (field?.[1] === "maxUses") return { message: `That was not accepted: the maximum uses ${field[2]}.`, field: "uses" };
  }
  return { message: sentence(e) };
}

export function Links({ context }: { context: OrgContext }) {
  const orgId = context.org.id;
  const [links, setLinks] = useState<InviteLink[] | null>(null);
  const customs = useCustomRoles(context.org.id);
  const [cursor, setCursor] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  // Each reading of the list from its start: who joined is read again with it.
  const [generation, setGeneration] = useState(0);
  const names = useNames(orgId);
  // The table waits for its creators' names (one look-up for the page), as the activity page
  // does: a row drawn before they arrive would show ids (and "its creator" for a revoked
  // link's reason).
  const [namesReady, setNamesReady] = useState(false);
  const [created, setCreated] = useState<NewInviteLink | null>(null);
  const [revoking, setRevoking] = useState<InviteLink | null>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const { joins, failed: joinsFailed } = useJoins(orgId, links, generation);

  const load = async (after?: string) => {
    try {
      const page = await ok(
        api.GET("/orgs/{orgId}/invite-links", { params: { path: { orgId }, query: { limit: 50, cursor: after } } }),
      );
      await resolveNames(orgId, page.links.map((l) => l.createdBy));
      setLinks((old) => [...(after ? (old ?? []) : []), ...page.links]);
      setCursor(page.nextCursor);
      if (!after) setGeneration((n) => n + 1);
      setError(null);
    } catch (e) {
      setError(sentence(e));
    }
  };
  useEffect(() => {
    setNamesReady(false);
    void load().then(() => setNamesReady(true));
  }, [orgId]);

  const nameOf = (link: InviteLink) => {
    const id = link.createdBy;
    if (id === context.me.userId) return "you";
    // A removed member's name cannot be looked up: their id says nothing to a person.
    return names.known(id) || link.revokedReason !== "creator_left" ? names.name(id) : "a former member";
  };
  const why = (link: InviteLink) =>
    revokedCause(link.revokedReason, names.known(link.createdBy) ? names.name(link.createdBy) : null, link.createdBy === context.me.userId);
  // A joiner who is no longer a member is known by the address they joined with.
  const joiner = (j: Join) => {
    const found = names.name(j.userId);
    return names.known(j.userId) ? found : (j.email ?? "a former member");
  };

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
              <th scope="col">Link</th>
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
                <td class="link-cell">
                  {link.label && <span class="link-label">{link.label}</span>}
                  <span class="link-role">{roleName(link.role, link.customRole, customs)}</span>
                  {link.status === "active" && privileged(link.role) && (
                    <span class="link-warn">
                      <span aria-hidden="true">⚠ </span>
                      Anyone with this link can join as {link.role === "owner" ? "an owner" : "an admin"}. Revoke it once the
                      people it was meant for have joined.
                    </span>
                  )}
                  {/* On a phone the uses and expiry columns give way to this line. */}
                  <span class="sub narrow">
                    {uses(link)}, {link.status === "expired" ? "expired" : "expires"} {dateTime(link.expiresAt)}
                  </span>
                  <Joined people={joins.get(link.id) ?? []} name={joiner} />
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
                      aria-label={`${link.status === "active" ? "Revoke" : "Remove"} ${linkTitle(link)} created ${dateTime(link.createdAt)}`}
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
      {joinsFailed && links && links.length > 0 && (
        <p class="muted">Who joined through each link could not be loaded. Reload the page to try again.</p>
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

/** Who joined through a link: "Joined: Ana, Bob and 3 others", and all of them behind a
 * disclosure when some are left out. */
function Joined({ people, name }: { people: Join[]; name: (j: Join) => string }) {
  if (people.length === 0) return null;
  const all = people.map(name);
  const line =
    all.length <= 3 ? `Joined: ${listed(all)}` : `Joined: ${all.slice(0, 2).join(", ")} and ${all.length - 2} others`;
  if (all.length <= 3) return <span class="sub joined">{line}</span>;
  return (
    <details class="joined">
      <summary>{line}</summary>
      <ul aria-label={`All ${all.length} people who joined with this link`}>
        {people.map((j, i) => (
          <li key={`${j.userId} ${j.at}`}>
            {all[i]} <span class="when">{dateTime(j.at)}</span>
          </li>
        ))}
      </ul>
    </details>
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
  // A built-in role or a custom role's key.
  const { builtin, customs, roles, labels } = useRoleChoices(context.org.id, context.me.role);
  // Viewer, the API's default and the least a link can grant.
  const [role, setRole] = useState<string>(builtin.includes("viewer") ? "viewer" : builtin[0]!);
  const [label, setLabel] = useState("");
  const [expires, setExpires] = useState("");
  const [max, setMax] = useState("");
  const [assigned, setAssigned] = useState<Assigned[]>([]);
  const [invalid, setInvalid] = useState<"label" | "uses" | null>(null);
  const [confirming, setConfirming] = useState(false);
  const { busy, error, setError, run } = useAction();
  const labelField = useRef<HTMLInputElement>(null);
  const usesField = useRef<HTMLInputElement>(null);
  const errorId = useId();
  const countId = useId();
  const labelLength = [...label.trim()].length;

  /** Says why the form was refused, marking and focusing the field at fault; `null` once it
   * is edited. */
  const refuse = (message: string | null, field: "label" | "uses" | null) => {
    setError(message);
    setInvalid(field);
    if (field === "label") labelField.current?.focus();
    if (field === "uses") usesField.current?.focus();
  };

  /** The form as it is, checked as the API would; null (and the reason said) if it would not
   * be accepted. */
  const body = () => {
    const uses = max.trim();
    if (labelLength > LABEL_MAX) {
      refuse(`That was not accepted: the label must be at most ${LABEL_MAX} characters.`, "label");
      return null;
    }
    if (uses && !(Number.isInteger(Number(uses)) && Number(uses) >= 1 && Number(uses) <= 100000)) {
      refuse("Maximum uses must be a whole number from 1 to 100,000, or empty for unlimited.", "uses");
      return null;
    }
    return {
      role,
      ...(label.trim() ? { label: label.trim() } : {}),
      ...(expires ? { expiresInHours: Number(expires) } : {}),
      ...(uses ? { maxUses: Number(uses) } : {}),
      ...assignment(assigned),
    };
  };

  const create = () => {
    const asked = body();
    if (!asked) return;
    setInvalid(null);
    void run(async () => {
      try {
        const answer = await ok(
          api.POST("/orgs/{orgId}/invite-links", { params: { path: { orgId: context.org.id } }, body: asked }),
        );
        setLabel("");
        setAssigned([]);
        onCreated(answer.link);
      } catch (e) {
        const { message, field } = refusal(e);
        refuse(message, field ?? null);
      }
    });
  };

  const submit = (e: Event) => {
    e.preventDefault();
    if (!body()) return;
    setError(null);
    setInvalid(null);
    // An owner or admin link is asked about first: whoever holds it gets that power.
    if (privileged(baseOf(role, customs))) setConfirming(true);
    else create();
  };

  return (
    <section class="card create-link" aria-labelledby="create-link-title">
      <h2 id="create-link-title">Create invite link</h2>
      <p class="muted">Anyone with the link can join while it is valid. Share it only with people you trust.</p>
      <form class="link-form" onSubmit={submit} noValidate>
        <label class="link-label-field">
          Label <span class="optional-hint">(optional)</span>
          <input
            ref={labelField}
            type="text"
            autocomplete="off"
            placeholder="For example: Sales team"
            value={label}
            aria-invalid={invalid === "label"}
            aria-describedby={[invalid === "label" ? errorId : "", labelLength > LABEL_MAX - 10 ? countId : ""].join(" ").trim() || undefined}
            onInput={(e) => {
              setLabel(e.currentTarget.value);
              if (invalid === "label") refuse(null, null);
            }}
          />
          {labelLength > LABEL_MAX - 10 && (
            <span id={countId} class={labelLength > LABEL_MAX ? "field-count over" : "field-count"}>
              {labelLength} of {LABEL_MAX} characters
            </span>
          )}
        </label>
        <RoleSelect value={role} roles={roles} labels={labels} onChange={setRole} />
        <ExpirySelect value={expires} onChange={setExpires} />
        <label>
          Maximum uses
          <input
            ref={usesField}
            type="number"
            min={1}
            max={100000}
            inputMode="numeric"
            placeholder="Unlimited"
            value={max}
            aria-invalid={invalid === "uses"}
            aria-describedby={invalid === "uses" ? errorId : undefined}
            onInput={(e) => {
              setMax(e.currentTarget.value);
              if (invalid === "uses") refuse(null, null);
            }}
          />
        </label>
        <AssignSection orgId={context.org.id} value={assigned} onChange={setAssigned} />
        <button type="submit" class="primary" disabled={busy}>
          {busy ? "Creating…" : "Create invite link"}
        </button>
      </form>
      {error && (
        <p class="error" role="alert" id={errorId}>
          {error}
        </p>
      )}
      {created && <NewLink link={created} />}
      {confirming && (
        <ConfirmPrivileged
          role={baseOf(role, customs)}
          label={label.trim()}
          unlimited={!max.trim()}
          orgName={context.org.name}
          onClose={(yes) => {
            setConfirming(false);
            if (yes) create();
          }}
        />
      )}
    </section>
  );
}

/** "Create an admin link?": what whoever holds it can do. Cancel has the focus, so that Enter
 * alone creates nothing. */
function ConfirmPrivileged(props: {
  role: Role;
  label: string;
  unlimited: boolean;
  orgName: string;
  onClose: (yes: boolean) => void;
}) {
  const role = props.role === "owner" ? "owner" : "admin";
  return (
    <Dialog title={`Create ${role === "owner" ? "an owner" : "an admin"} link?`} onClose={() => props.onClose(false)}>
      <div class="dialog-body">
        <p>{privilegeWarning(props.role, props.orgName)}</p>
        {props.label && <p class="muted">Label: {props.label}</p>}
        {props.unlimited && (
          <p class="muted">
            It has no limit on uses: to admit only the people you mean, cancel and set Maximum uses.
          </p>
        )}
      </div>
      <div class="actions">
        <button type="button" class="secondary" autofocus onClick={() => props.onClose(false)}>
          Cancel
        </button>
        <button type="button" class="danger" onClick={() => props.onClose(true)}>
          Create {role} link
        </button>
      </div>
    </Dialog>
  );
}

function NewLink({ link }: { link: NewInviteLink }) {
  const id = useId();
  const field = useRef<HTMLInputElement>(null);
  const [copied, setCopied] = useState<string | null>(null);
  useEffect(() => {
    setCopied(null);
    // The button that made it was disabled meanwhile, which took the focus away: it comes to
    // the new link (selected, ready to copy), unless the person has gone on elsewhere.
    const at = document.activeElement;
    if (!at || at === document.body || field.current?.closest("section")?.contains(at)) field.current?.focus();
  }, [link.id]);
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
      <label for={id}>{link.label ? `Invite link “${link.label}”` : "Invite link"}</label>
      <div class="copy-row">
        <input ref={field} id={id} readOnly value={link.url} onFocus={(e) => e.currentTarget.select()} />
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
  const active = link.status === "active";
  return (
    <Confirm
      title={active ? "Revoke this invite link?" : "Remove this invite link?"}
      body={
        active ? (
          <p>
            Nobody will be able to join with the {linkTitle(link)} any more. People who already joined with it stay members.
          </p>
        ) : (
          <p>The {linkTitle(link)} no longer works. Removing it only takes it off this list.</p>
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
