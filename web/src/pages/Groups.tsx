// The Groups tab and a group's page. Groups gather members so that a workspace can be granted
// to all of them at once. Everyone active reads them; the organization's admins and owners
// create, rename and delete them (deletion confirmed: their workspace access ends at once) and
// add members (type-ahead) or remove them (confirmed).
import { useEffect, useRef, useState } from "preact/hooks";
import { api, ApiError, ok } from "../api/client";
import { sentence } from "../api/messages";
import { navigate, onLinkClick } from "../router";
import { ROLE_LABEL } from "../roles";
import { displayName } from "../session";
import { leaveNotice, takeNotice } from "../pageNotice";
import { Ask } from "../components/Dialog";
import { Menu } from "../components/Menu";
import { ErrorText, Notice } from "../components/Status";
import { useAction } from "../components/useAction";
import { NameDialog } from "./workspaces/NameDialog";
import { MemberPicker } from "./workspaces/MemberPicker";
import type { Group, GroupMember } from "./workspaces/shared";
import { can, type OrgContext } from "./orgContext";

type Dialogs = { kind: "create" | "rename" | "delete"; group?: Group } | null;

const members = (n: number) => `${n} ${n === 1 ? "member" : "members"}`;

export function Groups({ context }: { context: OrgContext }) {
  const orgId = context.org.id;
  const admin = can(context, "workspaces:manage");
  const [list, setList] = useState<Group[] | null>(null);
  const [cursor, setCursor] = useState<string | null>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const [dialog, setDialog] = useState<Dialogs>(null);
  const { busy, error, run } = useAction();
  const load = (after?: string) =>
    run(async () => {
      const page = await ok(api.GET("/orgs/{orgId}/groups", { params: { path: { orgId }, query: { limit: 50, cursor: after } } }));
      setList((old) => [...(after ? (old ?? []) : []), ...page.groups]);
      setCursor(page.nextCursor);
    });
  useEffect(() => {
    setList(null);
    setNotice(takeNotice());
    void load();
  }, [orgId]);

  return (
    <div class="groups">
      <div class="members-head">
        <h2>Groups</h2>
        {admin && (
          <button type="button" class="primary" onClick={() => setDialog({ kind: "create" })}>
            Create group
          </button>
        )}
      </div>
      <p class="muted intro">A workspace granted to a group gives access to all of its members.</p>
      <Notice message={notice} />
      <ErrorText message={error} />
      {list === null ? (
        !error && <p class="muted">Loading groups…</p>
      ) : list.length === 0 ? (
        <p class="muted empty">No groups yet.{admin ? " Create one, then add members and grant it workspaces." : ""}</p>
      ) : (
        <table class="roster">
          <caption class="sr-only">Groups of {context.org.name}</caption>
          <thead>
            <tr>
              <th scope="col">Group</th>
              <th scope="col">Members</th>
              <th scope="col" class="act">
                <span class="sr-only">Actions</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {list.map((g) => (
              <tr key={g.id}>
                <td class="person">
                  <a class="name" href={`/o/${orgId}/groups/${g.id}`} onClick={onLinkClick}>
                    {g.name}
                  </a>
                  {g.description && <span class="sub clamp">{g.description}</span>}
                </td>
                <td>{g.memberCount}</td>
                <td class="act">
                  <Menu
                    label={`Actions for ${g.name}`}
                    items={
                      admin
                        ? [
                            { label: "Rename", onSelect: () => setDialog({ kind: "rename", group: g }) },
                            { label: "Delete", danger: true, onSelect: () => setDialog({ kind: "delete", group: g }) },
                          ]
                        : []
                    }
                  />
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {cursor && (
        <p class="more">
          <button type="button" class="secondary" disabled={busy} onClick={() => load(cursor)}>
            Load more
          </button>
        </p>
      )}
      <GroupDialogs
        orgId={orgId}
        dialog={dialog}
        onClose={() => setDialog(null)}
        onCreated={(g) => navigate(`/o/${orgId}/groups/${g.id}`)}
        onRenamed={(g) => {
          setList((old) => old && old.map((x) => (x.id === g.id ? g : x)));
          setNotice(`Saved: the group is now called ${g.name}.`);
        }}
        onDeleted={(g) => {
          setList((old) => old && old.filter((x) => x.id !== g.id));
          setNotice(`${g.name} was deleted. Its members lost the access it gave them.`);
        }}
      />
    </div>
  );
}

/** Create, rename and delete, wherever a group is shown. */
function GroupDialogs(props: {
  orgId: string;
  dialog: Dialogs;
  onClose: () => void;
  onCreated?: (g: Group) => void;
  onRenamed: (g: Group) => void;
  onDeleted: (g: Group) => void;
}) {
  const { orgId, dialog, onClose } = props;
  if (!dialog) return null;
  const g = dialog.group;
  if (dialog.kind === "delete" && g) {
    return (
      <Ask
        title={`Delete ${g.name}?`}
        body={
          <p>
            Its {members(g.memberCount)} lose at once the access to workspaces that {g.name} gives them. They stay members
            of the organization. This cannot be undone.
          </p>
        }
        confirm="Yes, delete group"
        danger
        onClose={onClose}
        onYes={async () => {
          await ok(api.DELETE("/orgs/{orgId}/groups/{groupId}", { params: { path: { orgId, groupId: g.id } } }));
          onClose();
          props.onDeleted(g);
        }}
      />
    );
  }
  return (
    <NameDialog
      title={g ? `Rename ${g.name}` : "Create group"}
      kind="group"
      name={g?.name ?? ""}
      description={g?.description ?? ""}
      submit={g ? "Save" : "Create group"}
      onClose={onClose}
      onSubmit={async (name, description) => {
        if (g) {
          const { group } = await ok(
            api.PATCH("/orgs/{orgId}/groups/{groupId}", { params: { path: { orgId, groupId: g.id } }, body: { name, description } }),
          );
          onClose();
          props.onRenamed(group);
        } else {
          const { group } = await ok(api.POST("/orgs/{orgId}/groups", { params: { path: { orgId } }, body: { name, description } }));
          props.onCreated?.(group);
        }
      }}
    />
  );
}

export function GroupPage({ context, groupId }: { context: OrgContext; groupId: string }) {
  const orgId = context.org.id;
  const admin = can(context, "workspaces:manage");
  const path = { orgId, groupId };
  const [group, setGroup] = useState<Group | null>(null);
  const [rows, setRows] = useState<GroupMember[] | null>(null);
  const [cursor, setCursor] = useState<string | null>(null);
  const [loadError, setLoadError] = useState<string | null>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const [dialog, setDialog] = useState<Dialogs>(null);
  const [removing, setRemoving] = useState<GroupMember | null>(null);
  const adding = useAction();
  const more = useAction();
  const heading = useRef<HTMLHeadingElement>(null);

  const readMembers = async (after?: string) => {
    const page = await ok(api.GET("/orgs/{orgId}/groups/{groupId}/members", { params: { path, query: { limit: 50, cursor: after } } }));
    setRows((old) => [...(after ? (old ?? []) : []), ...page.members]);
    setCursor(page.nextCursor);
  };
  useEffect(() => {
    setGroup(null);
    setRows(null);
    Promise.all([ok(api.GET("/orgs/{orgId}/groups/{groupId}", { params: { path } })), readMembers()]).then(
      ([answer]) => setGroup(answer.group),
      (e) => setLoadError(e instanceof ApiError && e.status === 404 ? "This group does not exist any more." : sentence(e)),
    );
  }, [orgId, groupId]);

  const back = (
    <p class="back">
      <a href={`/o/${orgId}/groups`} onClick={onLinkClick}>
        <span aria-hidden="true">← </span>Back to groups
      </a>
    </p>
  );
  if (!group || !rows) {
    return (
      <div class="member-details">
        {back}
        {loadError ? (
          <>
            <h2>Group unavailable</h2>
            <ErrorText message={loadError} />
          </>
        ) : (
          <p class="muted">Loading…</p>
        )}
      </div>
    );
  }
  const count = (n: number) => setGroup((old) => old && { ...old, memberCount: Math.max(0, old.memberCount + n) });

  return (
    <div class="member-details group-page">
      {back}
      <section class="card" aria-labelledby="group-title">
        <h2 id="group-title" ref={heading} tabIndex={-1}>
          {group.name}
        </h2>
        {group.description && <p class="description">{group.description}</p>}
        <p class="muted">{members(group.memberCount)}. Workspaces granted to this group give access to each of them.</p>
        {admin && (
          <div class="member-actions">
            <button type="button" class="secondary" onClick={() => setDialog({ kind: "rename", group })}>
              Rename
            </button>
            <button type="button" class="danger" onClick={() => setDialog({ kind: "delete", group })}>
              Delete group
            </button>
          </div>
        )}
      </section>
      <Notice message={notice} />
      <section class="card" aria-labelledby="group-members">
        <h3 id="group-members">Members</h3>
        {admin && (
          <div class="add-row">
            <MemberPicker
              orgId={orgId}
              label="Add member"
              disabled={adding.busy}
              exclude={(m) => rows.some((r) => r.userId === m.userId)}
              onPick={(m) =>
                void adding.run(async () => {
                  const { member } = await ok(
                    api.PUT("/orgs/{orgId}/groups/{groupId}/members/{userId}", { params: { path: { ...path, userId: m.userId } } }),
                  );
                  setRows((old) => [...(old ?? []).filter((r) => r.userId !== m.userId), member]);
                  count(1);
                  setNotice(`${displayName(m)} was added to ${group.name}.`);
                })
              }
            />
            <ErrorText message={adding.error} />
          </div>
        )}
        {rows.length === 0 ? (
          <p class="muted">No members yet.</p>
        ) : (
          <table class="roster stack">
            <caption class="sr-only">Members of {group.name}</caption>
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col">Organization role</th>
                <th scope="col" class="act">
                  <span class="sr-only">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {rows.map((r) => (
                <tr key={r.userId}>
                  <td class="person">
                    <a class="name" href={`/o/${orgId}/members/${encodeURIComponent(r.userId)}`} onClick={onLinkClick}>
                      {displayName(r)}
                    </a>
                    {r.email && r.email !== displayName(r) && <span class="sub">{r.email}</span>}
                    {r.status === "suspended" && <span class="badge suspended">Suspended</span>}
                  </td>
                  <td>{ROLE_LABEL[r.role]}</td>
                  <td class="act">
                    {admin && (
                      <button
                        type="button"
                        class="secondary small"
                        aria-label={`Remove ${displayName(r)} from ${group.name}`}
                        onClick={() => setRemoving(r)}
                      >
                        Remove
                      </button>
                    )}
                  </td>
                </tr>
              ))}
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
      <GroupDialogs
        orgId={orgId}
        dialog={dialog}
        onClose={() => setDialog(null)}
        onRenamed={(g) => {
          setGroup(g);
          setNotice(`Saved: the group is now called ${g.name}.`);
        }}
        onDeleted={(g) => {
          leaveNotice(`${g.name} was deleted. Its members lost the access it gave them.`);
          navigate(`/o/${orgId}/groups`);
        }}
      />
      {removing && (
        <Ask
          title={`Remove ${displayName(removing)} from ${group.name}?`}
          body={<p>They lose at once the access to workspaces that {group.name} gives them, unless they have it another way.</p>}
          confirm="Yes, remove"
          danger
          onClose={() => {
            setRemoving(null);
            setTimeout(() => {
              if (!document.activeElement?.isConnected || document.activeElement === document.body) heading.current?.focus();
            }, 50);
          }}
          onYes={async () => {
            const r = removing;
            await ok(api.DELETE("/orgs/{orgId}/groups/{groupId}/members/{userId}", { params: { path: { ...path, userId: r.userId } } }));
            setRows((old) => old && old.filter((x) => x.userId !== r.userId));
            count(-1);
            setNotice(`${displayName(r)} was removed from ${group.name}.`);
            setRemoving(null);
          }}
        />
      )}
    </div>
  );
}
