// The Workspaces tab: the workspaces the viewer can open (all of them for the organization's
// admins and owners), each with the viewer's access in words, "Load more"; "Create workspace"
// and Delete for the organization's admins and owners, Rename also for a workspace's admins.
import { useEffect, useState } from "preact/hooks";
import { api, ok } from "../api/client";
import { navigate, onLinkClick } from "../router";
import { takeNotice } from "../pageNotice";
import { Menu } from "../components/Menu";
import { ErrorText, Notice } from "../components/Status";
import { useAction } from "../components/useAction";
import { NameDialog } from "./workspaces/NameDialog";
import { DeleteWorkspace } from "./workspaces/DeleteWorkspace";
import { accessWords, allGroups, type Workspace } from "./workspaces/shared";
import { can, type OrgContext } from "./orgContext";

export function Workspaces({ context }: { context: OrgContext }) {
  const orgId = context.org.id;
  const orgAdmin = can(context, "workspaces:manage");
  const [list, setList] = useState<Workspace[] | null>(null);
  const [cursor, setCursor] = useState<string | null>(null);
  const [groupNames, setGroupNames] = useState<Map<string, string>>(new Map());
  const [notice, setNotice] = useState<string | null>(null);
  const [dialog, setDialog] = useState<{ kind: "create" | "rename" | "delete"; ws?: Workspace } | null>(null);
  const { busy, error, run } = useAction();

  const load = (after?: string) =>
    run(async () => {
      const page = await ok(
        api.GET("/orgs/{orgId}/workspaces", { params: { path: { orgId }, query: { limit: 50, cursor: after } } }),
      );
      setList((old) => [...(after ? (old ?? []) : []), ...page.workspaces]);
      setCursor(page.nextCursor);
      // Access through a group is said with the group's name.
      if (page.workspaces.some((w) => w.you?.via.some((v) => v.startsWith("group:")))) {
        const groups = await allGroups(orgId).catch(() => []);
        setGroupNames(new Map(groups.map((g) => [g.id, g.name])));
      }
    });
  useEffect(() => {
    setList(null);
    setNotice(takeNotice());
    void load();
  }, [orgId]);

  const replace = (ws: Workspace) => setList((old) => old && old.map((w) => (w.id === ws.id ? ws : w)));
  const close = () => setDialog(null);

  return (
    <div class="workspaces">
      <div class="members-head">
        <h2>Workspaces</h2>
        {orgAdmin && (
          <button type="button" class="primary" onClick={() => setDialog({ kind: "create" })}>
            Create workspace
          </button>
        )}
      </div>
      <Notice message={notice} />
      <ErrorText message={error} />
      {list === null ? (
        !error && <p class="muted">Loading workspaces…</p>
      ) : list.length === 0 ? (
        <p class="muted empty">
          {orgAdmin
            ? "No workspaces yet. Create one, then add members or grant it to groups."
            : "You have no workspaces here yet. An admin can add you to one."}
        </p>
      ) : (
        <table class="roster">
          <caption class="sr-only">Workspaces of {context.org.name}</caption>
          <thead>
            <tr>
              <th scope="col">Workspace</th>
              <th scope="col">Your access</th>
              <th scope="col" class="optional">
                Direct members
              </th>
              <th scope="col" class="act">
                <span class="sr-only">Actions</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {list.map((ws) => {
              const items = [];
              if (ws.you?.role === "admin") items.push({ label: "Rename", onSelect: () => setDialog({ kind: "rename", ws }) });
              if (orgAdmin) items.push({ label: "Delete", danger: true, onSelect: () => setDialog({ kind: "delete", ws }) });
              return (
                <tr key={ws.id}>
                  <td class="person">
                    <a class="name" href={`/o/${orgId}/workspaces/${ws.id}`} onClick={onLinkClick}>
                      {ws.name}
                    </a>
                    {ws.description && <span class="sub clamp">{ws.description}</span>}
                  </td>
                  <td>{ws.you ? accessWords(ws.you.role, ws.you.via, (id) => groupNames.get(id)) : "—"}</td>
                  <td class="optional">{ws.memberCount}</td>
                  <td class="act">
                    <Menu label={`Actions for ${ws.name}`} items={items} />
                  </td>
                </tr>
              );
            })}
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
      {dialog?.kind === "create" && (
        <NameDialog
          title="Create workspace"
          kind="workspace"
          submit="Create workspace"
          onClose={close}
          onSubmit={async (name, description) => {
            const { workspace } = await ok(
              api.POST("/orgs/{orgId}/workspaces", { params: { path: { orgId } }, body: { name, description } }),
            );
            navigate(`/o/${orgId}/workspaces/${workspace.id}`);
          }}
        />
      )}
      {dialog?.kind === "rename" && dialog.ws && (
        <RenameWorkspace
          orgId={orgId}
          ws={dialog.ws}
          onClose={close}
          onDone={(ws) => {
            replace(ws);
            setNotice(`Saved: the workspace is now called ${ws.name}.`);
            close();
          }}
        />
      )}
      {dialog?.kind === "delete" && dialog.ws && (
        <DeleteWorkspace
          orgId={orgId}
          ws={dialog.ws}
          onClose={close}
          onDone={() => {
            const gone = dialog.ws!;
            setList((old) => old && old.filter((w) => w.id !== gone.id));
            setNotice(`${gone.name} was deleted. Nobody has access to it any more.`);
            close();
          }}
        />
      )}
    </div>
  );
}

export function RenameWorkspace(props: { orgId: string; ws: Workspace; onClose: () => void; onDone: (ws: Workspace) => void }) {
  const { ws } = props;
  return (
    <NameDialog
      title={`Rename ${ws.name}`}
      kind="workspace"
      name={ws.name}
      description={ws.description}
      submit="Save"
      onClose={props.onClose}
      onSubmit={async (name, description) => {
        const { workspace } = await ok(
          api.PATCH("/orgs/{orgId}/workspaces/{workspaceId}", {
            params: { path: { orgId: props.orgId, workspaceId: ws.id } },
            body: { name, description },
          }),
        );
        props.onDone(workspace);
      }}
    />
  );
}
