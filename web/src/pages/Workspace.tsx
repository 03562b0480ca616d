// One workspace: its name, description and the viewer's access; its members (pending invitees
// first, then direct members) with their effective role and where it comes from, in words; the
// groups granted it. What the viewer may do is offered, and only that: rename (the workspace's
// admins), delete (the organization's admins and owners), add members with a type-ahead, a role
// per member (proposed in the drop-down, then Save; making or unmaking an admin is confirmed),
// remove (confirmed); grant a group, change its role, revoke it (organization admins). A
// workspace admin who is not an organization admin manages only members and viewers of the
// organization, and not their own access. The API judges, and a refusal is said in words.
import { useEffect, useRef, useState } from "preact/hooks";
import { api, ApiError, ok, type Member } from "../api/client";
import { sentence } from "../api/messages";
import { navigate, onLinkClick } from "../router";
import { canInvite } from "../roles";
import { displayName } from "../session";
import { leaveNotice } from "../pageNotice";
import { Ask } from "../components/Dialog";
import { RoleOptions } from "../components/Fields";
import { ErrorText, Notice } from "../components/Status";
import { useAction } from "../components/useAction";
import { RoleCell } from "./members/RoleChange";
import { MemberPicker } from "./workspaces/MemberPicker";
import { DeleteWorkspace } from "./workspaces/DeleteWorkspace";
import { RenameWorkspace } from "./Workspaces";
import {
  CHOICE_LABEL,
  CHOICES,
  WS_ROLE_LABEL,
  WS_ROLES,
  accessWords,
  allGroups,
  viaWords,
  type Grant,
  type Group,
  type Workspace as Ws,
  type WsRole,
  type WsRow,
} from "./workspaces/shared";
import { can, type OrgContext } from "./orgContext";
import { baseOf, roleLabels, useCustomRoles } from "../customRoles";

/** A direct membership's or grant's role as a drop-down holds it: a custom role's key, a
 * workspace role, or "org" (the organization role's). */
const choiceOf = (row: { role: WsRole | null; customRole?: string | undefined }): string => row.customRole ?? row.role ?? "org";
const roleOf = (choice: string): string | null => (choice === "org" ? null : choice);

/** What the open confirmation is about. */
type Asking =
  | { kind: "rename" | "delete" }
  | { kind: "role"; row: WsRow; to: string }
  | { kind: "remove"; row: WsRow }
  | { kind: "grant-role"; grant: Grant; to: string }
  | { kind: "revoke"; grant: Grant };

export function WorkspacePage({ context, workspaceId }: { context: OrgContext; workspaceId: string }) {
  const { org, me } = context;
  const orgId = org.id;
  const orgAdmin = can(context, "workspaces:manage");
  const path = { orgId, workspaceId };
  const [ws, setWs] = useState<Ws | null>(null);
  // The organization's custom roles: offered beside the workspace roles, ranked as their base.
  const customs = useCustomRoles(orgId);
  const labels: Record<string, string> = { ...roleLabels(customs), ...CHOICE_LABEL };
  const said = (choice: string) => labels[choice] ?? choice;
  /** A grant's role for its members: "members", "holders of Analyst (ranks as Viewer)". */
  const grantWords = (to: string) => ((WS_ROLES as string[]).includes(to) ? `${to}s` : `holders of ${said(to)}`);
  const rank = (choice: string): string => (choice === "org" ? "org" : baseOf(choice, customs));
  const withCustom = <R extends string>(roles: R[]): string[] => [...roles, ...customs.map((r) => r.key)];
  /** Whether a change from `from` to `to` makes or unmakes an admin here (asked first). */
  const adminChange = (from: string, to: string) => rank(from) !== rank(to) && (rank(from) === "admin" || rank(to) === "admin");
  const [grants, setGrants] = useState<Grant[]>([]);
  const [rows, setRows] = useState<WsRow[] | null>(null);
  const [cursor, setCursor] = useState<string | null>(null);
  const [groups, setGroups] = useState<Group[] | null>(null);
  const [proposed, setProposed] = useState<Record<string, string>>({});
  const [saving, setSaving] = useState<string | null>(null);
  const [note, setNote] = useState<{ key: string; text: string; error?: boolean } | null>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const [asking, setAsking] = useState<Asking | null>(null);
  const [loadError, setLoadError] = useState<string | null>(null);
  const more = useAction();
  const heading = useRef<HTMLHeadingElement>(null);

  const readMembers = async (after?: string) => {
    const page = await ok(
      api.GET("/orgs/{orgId}/workspaces/{workspaceId}/members", { params: { path, query: { limit: 50, cursor: after } } }),
    );
    setRows((old) => [...(after ? (old ?? []) : []), ...(page.members as WsRow[])]);
    setCursor(page.nextCursor);
  };
  const load = async () => {
    try {
      const [answer] = await Promise.all([ok(api.GET("/orgs/{orgId}/workspaces/{workspaceId}", { params: { path } })), readMembers()]);
      setWs(answer.workspace);
      setGrants(answer.groups);
      setLoadError(null);
    } catch (e) {
      setLoadError(
        e instanceof ApiError && e.status === 404
          ? "This workspace does not exist, or you do not have access to it."
          : sentence(e),
      );
    }
  };
  useEffect(() => {
    setWs(null);
    setRows(null);
    void load();
  }, [orgId, workspaceId, me.role]);
  useEffect(() => {
    if (orgAdmin && ws && !groups) void allGroups(orgId).then(setGroups, () => setGroups([]));
  }, [orgAdmin, ws?.id]);

  const back = (
    <p class="back">
      <a href={`/o/${orgId}/workspaces`} onClick={onLinkClick}>
        <span aria-hidden="true">← </span>Back to workspaces
      </a>
    </p>
  );
  if (!ws || !rows) {
    return (
      <div class="member-details">
        {back}
        {loadError ? (
          <>
            <h2>Workspace unavailable</h2>
            <ErrorText message={loadError} />
          </>
        ) : (
          <p class="muted">Loading…</p>
        )}
      </div>
    );
  }

  const wsAdmin = ws.you?.role === "admin";
  const groupName = (id: string) => grants.find((g) => g.groupId === id)?.name ?? groups?.find((g) => g.id === id)?.name;
  const nameOf = (r: WsRow) => r.name || r.email || r.userId || "";
  const keyOf = (r: WsRow) => r.userId ?? `inv ${r.invitationId}`;
  // A workspace admin manages only members and viewers of the organization (whose access has
  // no organization source), and not their own.
  const manages = (r: WsRow) =>
    !!r.userId && r.status !== "invited" && (orgAdmin || (wsAdmin && r.userId !== me.userId && !r.via.includes("org_role")));
  const say = (key: string, text: string, error = false) => {
    setNotice(null);
    setNote({ key, text, error });
  };
  const replaceRow = (row: WsRow) => setRows((old) => old && old.map((r) => (r.userId === row.userId ? row : r)));
  const propose = (key: string, to: string | null) => {
    setProposed((old) => {
      const next = { ...old };
      if (to) next[key] = to;
      else delete next[key];
      return next;
    });
    if (note?.key === key) setNote(null);
  };
  const close = () => {
    setAsking(null);
    setTimeout(() => {
      const at = document.activeElement;
      if (!at || at === document.body || !at.isConnected) heading.current?.focus();
    }, 50);
  };

  /** Writes a member's role (throws the refusal). */
  const writeRole = async (row: WsRow, to: string) => {
    const { member } = await ok(
      api.PUT("/orgs/{orgId}/workspaces/{workspaceId}/members/{userId}", {
        params: { path: { ...path, userId: row.userId! } },
        body: { role: roleOf(to) },
      }),
    );
    replaceRow(member as WsRow);
    propose(row.userId!, null);
    say(
      row.userId!,
      to === "org"
        ? `${nameOf(row)}'s role here now follows their organization role.`
        : `${nameOf(row)} is now ${to === "admin" ? "an admin" : (WS_ROLES as string[]).includes(to) ? `a ${to}` : said(to)} here.`,
    );
  };
  const saveRole = async (row: WsRow) => {
    const to = proposed[row.userId!];
    if (!to) return;
    // Making or unmaking an admin of the workspace is asked first.
    if (adminChange(choiceOf(row), to)) return setAsking({ kind: "role", row, to });
    setSaving(row.userId!);
    try {
      await writeRole(row, to);
    } catch (e) {
      say(row.userId!, sentence(e), true);
    } finally {
      setSaving(null);
    }
  };
  const writeGrant = async (groupId: string, role: string) => {
    await ok(
      api.PUT("/orgs/{orgId}/workspaces/{workspaceId}/groups/{groupId}", { params: { path: { ...path, groupId } }, body: { role } }),
    );
    const answer = await ok(api.GET("/orgs/{orgId}/workspaces/{workspaceId}", { params: { path } }));
    setGrants(answer.groups);
    setWs(answer.workspace);
    propose(groupId, null);
    // Members whose access comes through the group show it.
    await readMembers();
  };
  const saveGrant = async (grant: Grant) => {
    const to = proposed[grant.groupId];
    if (!to) return;
    if (adminChange(choiceOf(grant), to)) return setAsking({ kind: "grant-role", grant, to });
    setSaving(grant.groupId);
    try {
      await writeGrant(grant.groupId, to);
      say(grant.groupId, `Members of ${grant.name} are now ${grantWords(to)} here.`);
    } catch (e) {
      say(grant.groupId, sentence(e), true);
    } finally {
      setSaving(null);
    }
  };

  const access = (r: WsRow) =>
    r.status === "invited"
      ? `${WS_ROLE_LABEL[r.effectiveRole ?? "member"]} once they accept`
      : r.effectiveRole
        ? accessWords(r.effectiveRole, r.via, groupName)
        : "No access while suspended";

  return (
    <div class="member-details workspace">
      {back}
      <section class="card" aria-labelledby="ws-title">
        <h2 id="ws-title" ref={heading} tabIndex={-1}>
          {ws.name}
        </h2>
        {ws.description && <p class="description">{ws.description}</p>}
        <p class="muted">
          {ws.you && <>Your access: {accessWords(ws.you.role, ws.you.via, groupName)}. </>}
          {ws.memberCount} direct {ws.memberCount === 1 ? "member" : "members"}
          {grants.length > 0 && `, ${grants.length} ${grants.length === 1 ? "group" : "groups"}`}.
        </p>
        {(wsAdmin || orgAdmin) && (
          <div class="member-actions">
            {wsAdmin && (
              <button type="button" class="secondary" onClick={() => setAsking({ kind: "rename" })}>
                Rename
              </button>
            )}
            {orgAdmin && (
              <button type="button" class="danger" onClick={() => setAsking({ kind: "delete" })}>
                Delete workspace
              </button>
            )}
          </div>
        )}
      </section>
      <Notice message={notice} />

      <section class="card" aria-labelledby="ws-members">
        <h3 id="ws-members">Members</h3>
        {(orgAdmin || wsAdmin) && (
          <AddMember
            orgId={orgId}
            exclude={(m) => rows.some((r) => r.userId === m.userId) || (!orgAdmin && (m.userId === me.userId || canInvite(m.role)))}
            choices={withCustom(CHOICES)}
            labels={labels}
            onAdd={async (m, role) => {
              const existed = rows.some((r) => r.userId === m.userId);
              const { member } = await ok(
                api.PUT("/orgs/{orgId}/workspaces/{workspaceId}/members/{userId}", {
                  params: { path: { ...path, userId: m.userId } },
                  body: { role: roleOf(role) },
                }),
              );
              setRows((old) => [...(old ?? []).filter((r) => r.userId !== m.userId), member as WsRow]);
              if (!existed) setWs((old) => old && { ...old, memberCount: old.memberCount + 1 });
              say(
                m.userId,
                role === "org"
                  ? `${displayName(m)} was added with their organization role.`
                  : `${displayName(m)} was added as ${role === "admin" ? "an admin" : (WS_ROLES as string[]).includes(role) ? `a ${role}` : said(role)}.`,
              );
            }}
          />
        )}
        {rows.length === 0 ? (
          <p class="muted">
            No direct members yet.
            {grants.length > 0 ? " The members of the groups below have access." : ""}
          </p>
        ) : (
          <table class="roster stack">
            <caption class="sr-only">Members of {ws.name}</caption>
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col">Access</th>
                <th scope="col" class="role-col">
                  Role here
                </th>
                <th scope="col" class="act">
                  <span class="sr-only">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {rows.map((r) => {
                const key = keyOf(r);
                const mine = note?.key === key ? note : null;
                return (
                  <tr key={key}>
                    <td class="person">
                      {r.userId ? (
                        <a class="name" href={`/o/${orgId}/members/${encodeURIComponent(r.userId)}`} onClick={onLinkClick}>
                          {nameOf(r)}
                        </a>
                      ) : (
                        <span class="name">{nameOf(r)}</span>
                      )}
                      {r.userId === me.userId && <span class="muted"> (you)</span>}
                      {r.email && r.email !== nameOf(r) && <span class="sub">{r.email}</span>}
                      {r.status !== "active" && (
                        <span class={`badge ${r.status}`}>{r.status === "invited" ? "Invited" : "Suspended"}</span>
                      )}
                      <span class="row-note" role="status">
                        {mine && !mine.error ? mine.text : ""}
                      </span>
                      {mine?.error && (
                        <span class="row-note error" role="alert">
                          {mine.text}
                        </span>
                      )}
                    </td>
                    <td class="access">{access(r)}</td>
                    <td>
                      {manages(r) ? (
                        <RoleCell<string>
                          name={nameOf(r)}
                          current={choiceOf(r)}
                          choices={withCustom(CHOICES)}
                          labels={labels}
                          proposed={proposed[key]}
                          busy={saving === key}
                          onPropose={(to) => propose(key, to)}
                          onSave={() => void saveRole(r)}
                        />
                      ) : (
                        <>
                          {said(choiceOf(r))}
                          {wsAdmin && !orgAdmin && r.userId === me.userId && (
                            <span class="role-lock">Only an organization admin can change your own access.</span>
                          )}
                        </>
                      )}
                    </td>
                    <td class="act">
                      {manages(r) && (
                        <button
                          type="button"
                          class="secondary small"
                          aria-label={`Remove ${nameOf(r)} from ${ws.name}`}
                          onClick={() => setAsking({ kind: "remove", row: r })}
                        >
                          Remove
                        </button>
                      )}
                    </td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        )}
        <ErrorText message={more.error} />
        {cursor && (
          <p class="more">
            <button type="button" class="secondary" disabled={more.busy} onClick={() => void more.run(() => readMembers(cursor))}>
              Load more
            </button>
          </p>
        )}
      </section>

      <section class="card" aria-labelledby="ws-groups">
        <h3 id="ws-groups">Groups with access</h3>
        {grants.length === 0 ? (
          <p class="muted">No group has access to this workspace.</p>
        ) : (
          <table class="roster stack">
            <caption class="sr-only">Groups with access to {ws.name}</caption>
            <thead>
              <tr>
                <th scope="col">Group</th>
                <th scope="col" class="role-col">
                  Role of its members
                </th>
                <th scope="col" class="act">
                  <span class="sr-only">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {grants.map((g) => {
                const mine = note?.key === g.groupId ? note : null;
                return (
                  <tr key={g.groupId}>
                    <td class="person">
                      <a class="name" href={`/o/${orgId}/groups/${g.groupId}`} onClick={onLinkClick}>
                        {g.name}
                      </a>
                      <span class="sub">
                        {g.memberCount} {g.memberCount === 1 ? "member" : "members"}
                      </span>
                      <span class="row-note" role="status">
                        {mine && !mine.error ? mine.text : ""}
                      </span>
                      {mine?.error && (
                        <span class="row-note error" role="alert">
                          {mine.text}
                        </span>
                      )}
                    </td>
                    <td>
                      {orgAdmin ? (
                        <RoleCell<string>
                          name={`group ${g.name}`}
                          current={choiceOf(g)}
                          choices={withCustom(WS_ROLES)}
                          labels={labels}
                          proposed={proposed[g.groupId]}
                          busy={saving === g.groupId}
                          onPropose={(to) => propose(g.groupId, to)}
                          onSave={() => void saveGrant(g)}
                        />
                      ) : (
                        said(choiceOf(g))
                      )}
                    </td>
                    <td class="act">
                      {orgAdmin && (
                        <button
                          type="button"
                          class="secondary small"
                          aria-label={`Revoke ${g.name}'s access`}
                          onClick={() => setAsking({ kind: "revoke", grant: g })}
                        >
                          Revoke
                        </button>
                      )}
                    </td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        )}
        {orgAdmin && (
          <GrantGroup
            groups={(groups ?? []).filter((g) => !grants.some((x) => x.groupId === g.id))}
            loading={!groups}
            groupsPath={`/o/${orgId}/groups`}
            choices={withCustom(WS_ROLES)}
            labels={labels}
            onGrant={async (group, role) => {
              await writeGrant(group.id, role);
              say(group.id, `${group.name} was granted access: its members are ${grantWords(role)} here.`);
            }}
          />
        )}
      </section>

      {asking?.kind === "rename" && (
        <RenameWorkspace
          orgId={orgId}
          ws={ws}
          onClose={close}
          onDone={(changed) => {
            setWs(changed);
            setNotice(`Saved: the workspace is now called ${changed.name}.`);
            close();
          }}
        />
      )}
      {asking?.kind === "delete" && (
        <DeleteWorkspace
          orgId={orgId}
          ws={ws}
          onClose={close}
          onDone={() => {
            leaveNotice(`${ws.name} was deleted. Nobody has access to it any more.`);
            navigate(`/o/${orgId}/workspaces`);
          }}
        />
      )}
      {asking?.kind === "role" && (
        <Ask
          title={`Change ${nameOf(asking.row)}'s role in ${ws.name}?`}
          body={
            <p>
              {rank(asking.to) === "admin"
                ? `${nameOf(asking.row)} will be able to rename ${ws.name} and add, change and remove the access of its members.`
                : `${nameOf(asking.row)} will no longer be able to rename ${ws.name} or manage who has access to it, unless they are an admin of it another way.`}
            </p>
          }
          confirm={asking.to === "admin" ? "Yes, make admin" : `Yes, make ${said(asking.to).toLowerCase()}`}
          onClose={close}
          onYes={async () => {
            await writeRole(asking.row, asking.to);
            close();
          }}
        />
      )}
      {asking?.kind === "remove" && (
        <Ask
          title={`Remove ${nameOf(asking.row)} from ${ws.name}?`}
          body={
            <p>
              {nameOf(asking.row)} loses the access this membership gives at once.
              {asking.row.via.some((v) => v !== "direct") &&
                ` They keep access ${viaWords(
                  asking.row.via.filter((v) => v !== "direct"),
                  groupName,
                ).replace(/^T/, "t")}.`}
            </p>
          }
          confirm="Yes, remove"
          danger
          onClose={close}
          onYes={async () => {
            const r = asking.row;
            await ok(
              api.DELETE("/orgs/{orgId}/workspaces/{workspaceId}/members/{userId}", { params: { path: { ...path, userId: r.userId! } } }),
            );
            setRows((old) => old && old.filter((x) => x.userId !== r.userId));
            setWs((old) => old && { ...old, memberCount: Math.max(0, old.memberCount - 1) });
            setNote(null);
            setNotice(`${nameOf(r)} was removed from ${ws.name}.`);
            close();
          }}
        />
      )}
      {asking?.kind === "grant-role" && (
        <Ask
          title={`Make the members of ${asking.grant.name} ${grantWords(asking.to)} of ${ws.name}?`}
          body={
            <p>
              {rank(asking.to) === "admin"
                ? `Everyone in ${asking.grant.name} (${asking.grant.memberCount}) will be able to rename ${ws.name} and manage who has access to it.`
                : `The members of ${asking.grant.name} will no longer be able to rename ${ws.name} or manage its access through this group.`}
            </p>
          }
          confirm="Yes, change role"
          onClose={close}
          onYes={async () => {
            const { grant, to } = asking;
            await writeGrant(grant.groupId, to);
            say(grant.groupId, `Members of ${grant.name} are now ${grantWords(to)} here.`);
            close();
          }}
        />
      )}
      {asking?.kind === "revoke" && (
        <Ask
          title={`Revoke ${asking.grant.name}'s access to ${ws.name}?`}
          body={
            <p>
              Its members lose the access this group gives at once. Those who are also direct members, or admins of the
              organization, keep theirs.
            </p>
          }
          confirm="Yes, revoke"
          danger
          onClose={close}
          onYes={async () => {
            const g = asking.grant;
            await ok(api.DELETE("/orgs/{orgId}/workspaces/{workspaceId}/groups/{groupId}", { params: { path: { ...path, groupId: g.groupId } } }));
            setGrants((old) => old.filter((x) => x.groupId !== g.groupId));
            setNotice(`${g.name} no longer has access to ${ws.name}.`);
            close();
            await readMembers();
          }}
        />
      )}
    </div>
  );
}

/** "Add member": one of the organization's members, chosen by type-ahead, and the role they
 * get here; Add writes it. */
function AddMember(props: {
  orgId: string;
  exclude: (m: Member) => boolean;
  /** The choices (CHOICES, then the custom roles) and their labels. */
  choices: string[];
  labels: Record<string, string>;
  onAdd: (m: Member, role: string) => Promise<void>;
}) {
  const [chosen, setChosen] = useState<Member | null>(null);
  const [role, setRole] = useState<string>("org");
  const { busy, error, setError, run } = useAction();
  const form = useRef<HTMLFormElement>(null);
  const refocus = () => setTimeout(() => form.current?.querySelector<HTMLElement>("input, select")?.focus(), 0);
  return (
    <form
      ref={form}
      class="add-row"
      aria-label="Add a member"
      onSubmit={(e) => {
        e.preventDefault();
        if (chosen)
          void run(async () => {
            await props.onAdd(chosen, role);
            setChosen(null);
            refocus();
          });
      }}
    >
      {chosen ? (
        <div class="picked">
          <span class="label">Add member</span>
          <span class="chip">
            {displayName(chosen)}
            <button
              type="button"
              class="chip-remove"
              aria-label={`Choose someone other than ${displayName(chosen)}`}
              onClick={() => {
                setChosen(null);
                setError(null);
                refocus();
              }}
            >
              ×
            </button>
          </span>
        </div>
      ) : (
        <MemberPicker
          orgId={props.orgId}
          label="Add member"
          exclude={props.exclude}
          onPick={(m) => {
            setChosen(m);
            setError(null);
            refocus();
          }}
        />
      )}
      <label>
        Role here
        <select value={role} onChange={(e) => setRole(e.currentTarget.value)}>
          <RoleOptions roles={props.choices} labels={props.labels} />
        </select>
      </label>
      <button type="submit" class="primary" disabled={busy || !chosen}>
        Add
      </button>
      <ErrorText message={error} />
    </form>
  );
}

/** "Grant a group": one of the organization's groups not granted yet, and its members' role. */
function GrantGroup(props: {
  groups: Group[];
  loading: boolean;
  groupsPath: string;
  choices: string[];
  labels: Record<string, string>;
  onGrant: (g: Group, role: string) => Promise<void>;
}) {
  const [groupId, setGroupId] = useState("");
  const [role, setRole] = useState<string>("member");
  const { busy, error, run } = useAction();
  const chosen = props.groups.find((g) => g.id === groupId);
  if (!props.loading && props.groups.length === 0) {
    return (
      <p class="muted add-note">
        To give a group's members access, create the group on the <a href={props.groupsPath} onClick={onLinkClick}>Groups</a> tab.
      </p>
    );
  }
  return (
    <form
      class="add-row grant"
      onSubmit={(e) => {
        e.preventDefault();
        if (chosen) void run(() => props.onGrant(chosen, role).then(() => setGroupId("")));
      }}
    >
      <label>
        Grant a group
        <select value={chosen ? groupId : ""} onChange={(e) => setGroupId(e.currentTarget.value)}>
          <option value="">{props.loading ? "Loading groups…" : "Choose a group"}</option>
          {props.groups.map((g) => (
            <option key={g.id} value={g.id}>
              {g.name}
            </option>
          ))}
        </select>
      </label>
      <label>
        Role of its members
        <select value={role} onChange={(e) => setRole(e.currentTarget.value)}>
          <RoleOptions roles={props.choices} labels={props.labels} />
        </select>
      </label>
      <button type="submit" class="primary" disabled={busy || !chosen}>
        Grant access
      </button>
      <ErrorText message={error} />
    </form>
  );
}
