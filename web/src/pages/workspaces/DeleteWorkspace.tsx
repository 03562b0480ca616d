// "Delete workspace?": names it, and says that access ends at once for everyone.
import { api, ok } from "../../api/client";
import { Ask } from "../../components/Dialog";
import type { Workspace } from "./shared";

export function DeleteWorkspace(props: { orgId: string; ws: Workspace; onClose: () => void; onDone: () => void }) {
  const { ws } = props;
  return (
    <Ask
      title={`Delete ${ws.name}?`}
      body={
        <>
          <p>
            Everyone loses access to {ws.name} at once: its direct members and the members of the groups granted it.
            This cannot be undone.
          </p>
          <p>Pending invitations no longer add anyone to it.</p>
        </>
      }
      confirm="Yes, delete workspace"
      danger
      onClose={props.onClose}
      onYes={async () => {
        await ok(
          api.DELETE("/orgs/{orgId}/workspaces/{workspaceId}", { params: { path: { orgId: props.orgId, workspaceId: ws.id } } }),
        );
        props.onDone();
      }}
    />
  );
}
