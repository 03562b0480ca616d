// Settings → Roles (owners: `roles:manage`): the built-in roles, read-only, with what each
// holds; the organization's custom roles, created, edited and deleted here. A custom role
// ranks as its base for every member-management rule and holds the host product's
// permissions ticked for it (GET /permissions, builtin=false). Loaded on demand (a chunk of
// its own): only owners open it.
import { useEffect, useId, useRef, useState } from "preact/hooks";
import { api, ApiError, ok } from "../../api/client";
import { sentence } from "../../api/messages";
import type { components } from "../../api/schema";
import { Dialog, Ask } from "../../components/Dialog";
import { ErrorText, Notice } from "../../components/Status";
import { useAction } from "../../components/useAction";
import { forgetRoles, BASE_LABEL, type RoleDefinition } from "../../customRoles";
import type { OrgContext } from "../orgContext";

type Entry = components["schemas"]["CatalogEntry"];
type Base = components["schemas"]["CustomRoleBase"];

const BASES: Base[] = ["admin", "member", "viewer"];
const BUILTIN = ["owner", "admin", "member", "viewer"];

/** What a base means, in words: the rank its holders have for every rule. */
const RANKS_AS: Record<Base, string> = {
  admin: "invites people and manages members and viewers; only owners may give this role or manage its holders.",
  member: "reads the organization and its members; admins and owners may give this role and manage its holders.",
  viewer: "reads the organization and its members; admins and owners may give this role and manage its holders.",
};

/** A key suggested from a role's name: `Billing admin` → `billing_admin`. */
export function suggestKey(name: string): string {
  let key = name
    .normalize("NFKD")
    .replace(/[\u0300-\u036f]/g, "")
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, "_")
    .replace(/^[^a-z]+/, "")
    .slice(0, 32)
    .replace(/_+$/, "");
  if (BUILTIN.includes(key)) key = `${key}_custom`;
  return key;
}

const count = (n: number, one: string) => `${n} ${one}${n === 1 ? "" : "s"}`;

export function Roles({ context }: { context: OrgContext }) {
  const orgId = context.org.id;
  const [roles, setRoles] = useState<RoleDefinition[] | null>(null);
  const [catalog, setCatalog] = useState<Entry[]>([]);
  const [error, setError] = useState<string | null>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const [editing, setEditing] = useState<RoleDefinition | "new" | null>(null);
  const [deleting, setDeleting] = useState<RoleDefinition | null>(null);
  const heading = useRef<HTMLHeadingElement>(null);

  const load = async () => {
    try {
      const [list, permissions] = await Promise.all([
        ok(api.GET("/orgs/{orgId}/roles", { params: { path: { orgId } } })),
        ok(api.GET("/permissions")),
      ]);
      setRoles(list.roles);
      setCatalog(permissions.permissions.filter((p) => !p.builtin));
      setError(null);
    } catch (e) {
      setError(sentence(e));
    }
  };
  useEffect(() => void load(), [orgId]);

  const changed = async (message: string) => {
    forgetRoles(orgId);
    setNotice(message);
    await load();
  };

  const describe = (key: string) => catalog.find((p) => p.key === key)?.description ?? key;
  const custom = roles?.filter((r) => !r.builtin) ?? [];
  const builtin = roles?.filter((r) => r.builtin) ?? [];

  return (
    <div class="roles">
      <section class="card" aria-labelledby="custom-roles-title">
        <div class="members-head">
          <h2 id="custom-roles-title" ref={heading} tabIndex={-1}>
            Custom roles
          </h2>
          <button type="button" class="primary" disabled={!roles} onClick={() => setEditing("new")}>
            Create role
          </button>
        </div>
        <p class="muted">
          A custom role ranks as Admin, Member or Viewer for every member-management rule, and gives the product
          permissions you pick. Give it wherever you choose a role.
        </p>
        <ErrorText message={error} />
        <Notice message={notice} />
        {roles && (
          <table class="roster roles-list">
            <thead>
              <tr>
                <th scope="col">Role</th>
                <th scope="col" class="optional">
                  Ranks as
                </th>
                <th scope="col">Permissions</th>
                <th scope="col" class="row-actions">
                  <span class="sr-only">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {custom.length === 0 && (
                <tr>
                  <td colSpan={4} class="empty">
                    No custom roles yet.
                  </td>
                </tr>
              )}
              {custom.map((role) => (
                <tr key={role.key}>
                  <td class="person">
                    <span class="name">{role.name}</span>
                    <span class="sub">
                      <code>{role.key}</code>
                      {role.description && <> · {role.description}</>}
                    </span>
                    {/* On a phone the "Ranks as" column gives way to this line. */}
                    <span class="sub narrow">Ranks as {BASE_LABEL[role.base]}</span>
                  </td>
                  <td class="optional">{BASE_LABEL[role.base]}</td>
                  <td>
                    <Held permissions={role.permissions} describe={describe} />
                  </td>
                  <td class="row-actions">
                    <span class="role-actions">
                      <button
                        type="button"
                        class="secondary small"
                        aria-label={`Edit ${role.name}`}
                        onClick={() => setEditing(role)}
                      >
                        Edit
                      </button>
                      <button
                        type="button"
                        class="secondary small"
                        aria-label={`Delete ${role.name}`}
                        onClick={() => setDeleting(role)}
                      >
                        Delete
                      </button>
                    </span>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
        {!roles && !error && <p class="muted">Loading…</p>}
      </section>

      {builtin.length > 0 && (
        <section class="card" aria-labelledby="builtin-roles-title">
          <h2 id="builtin-roles-title">Built-in roles</h2>
          <p class="muted">Every organization has these; they cannot be changed.</p>
          <table class="roster roles-list">
            <thead>
              <tr>
                <th scope="col">Role</th>
                <th scope="col">Permissions</th>
              </tr>
            </thead>
            <tbody>
              {builtin.map((role) => (
                <tr key={role.key}>
                  <td class="person">
                    <span class="name">{role.name}</span>
                    {role.description && <span class="sub">{role.description}</span>}
                  </td>
                  <td>
                    <Held permissions={role.permissions} describe={describe} />
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </section>
      )}

      {editing && (
        <RoleDialog
          orgId={orgId}
          role={editing === "new" ? null : editing}
          catalog={catalog}
          onClose={() => setEditing(null)}
          onDone={async (role, created) => {
            setEditing(null);
            await changed(created ? `Created ${role.name}.` : `Saved ${role.name}.`);
          }}
        />
      )}
      {deleting && (
        <Ask
          title={`Delete ${deleting.name}?`}
          body={
            <>
              <p>
                It can no longer be given to anyone. A role still held by a member, an invitation, an invite link, a
                workspace membership or a group's access cannot be deleted: give them another role first.
              </p>
            </>
          }
          confirm="Yes, delete role"
          danger
          onYes={async () => {
            await ok(
              api.DELETE("/orgs/{orgId}/roles/{roleKey}", {
                params: { path: { orgId, roleKey: deleting.key } },
              }),
            );
            const name = deleting.name;
            setDeleting(null);
            await changed(`Deleted ${name}.`);
            heading.current?.focus();
          }}
          onClose={() => setDeleting(null)}
        />
      )}
    </div>
  );
}

/** "2 permissions", opening to their descriptions. */
function Held({ permissions, describe }: { permissions: string[]; describe: (key: string) => string }) {
  if (permissions.length === 0) return <span class="muted">None of the product's</span>;
  return (
    <details class="held">
      <summary>{count(permissions.length, "permission")}</summary>
      <ul>
        {permissions.map((p) => (
          <li key={p}>
            {describe(p)} <code>{p}</code>
          </li>
        ))}
      </ul>
    </details>
  );
}

function RoleDialog(props: {
  orgId: string;
  role: RoleDefinition | null;
  catalog: Entry[];
  onClose: () => void;
  onDone: (role: RoleDefinition, created: boolean) => Promise<void>;
}) {
  const { role, catalog } = props;
  const [name, setName] = useState(role?.name ?? "");
  const [key, setKey] = useState(role?.key ?? "");
  const [keyEdited, setKeyEdited] = useState(false);
  const [description, setDescription] = useState(role?.description ?? "");
  const [base, setBase] = useState<Base>((role?.base as Base | undefined) ?? "member");
  const [picked, setPicked] = useState<Set<string>>(new Set(role?.permissions ?? []));
  const { busy, error, run } = useAction();
  const id = useId();

  const toggle = (p: string, on: boolean) => {
    const next = new Set(picked);
    if (on) next.add(p);
    else next.delete(p);
    setPicked(next);
  };

  const submit = (e: Event) => {
    e.preventDefault();
    const permissions = catalog.map((p) => p.key).filter((p) => picked.has(p));
    void run(
      async () => {
        try {
          const answer = role
            ? await ok(
                api.PATCH("/orgs/{orgId}/roles/{roleKey}", {
                  params: { path: { orgId: props.orgId, roleKey: role.key } },
                  body: { name, description, permissions },
                }),
              )
            : await ok(
                api.POST("/orgs/{orgId}/roles", {
                  params: { path: { orgId: props.orgId } },
                  body: { key, name, base, permissions, ...(description.trim() ? { description } : {}) },
                }),
              );
          await props.onDone(answer.role, !role);
        } catch (e) {
          if (!role && e instanceof ApiError && e.code === "conflict")
            throw new ApiError(409, "said", `A role with the key “${key}” already exists. Choose another key.`);
          throw e;
        }
      },
      { leaving: true },
    );
  };

  const scopes: [string, string, string][] = [
    ["org", "Organization permissions", "Apply across the whole organization."],
    ["workspace", "Workspace permissions", "Apply in the workspaces the holder can open."],
  ];

  return (
    <Dialog title={role ? `Edit ${role.name}` : "Create role"} onClose={props.onClose} wide>
      <form class="role-form" onSubmit={submit}>
        <label>
          Name
          <input
            autoFocus
            required
            maxLength={100}
            autoComplete="off"
            value={name}
            onInput={(e) => {
              const value = e.currentTarget.value;
              setName(value);
              if (!role && !keyEdited) setKey(suggestKey(value));
            }}
          />
        </label>
        <label for={`${id}-key`}>Key</label>
        <input
          id={`${id}-key`}
          class="key"
          required
          readOnly={!!role}
          maxLength={32}
          pattern="[a-z][a-z0-9_\-]{0,31}"
          spellcheck={false}
          autoComplete="off"
          aria-describedby={`${id}-key-hint`}
          value={key}
          onInput={(e) => {
            setKey(e.currentTarget.value);
            setKeyEdited(true);
          }}
        />
        <p class="hint" id={`${id}-key-hint`}>
          {role
            ? "The key never changes: the product and the API name the role by it."
            : "What the product and the API call it: lowercase letters, digits, - and _, starting with a letter. It cannot be changed later."}
        </p>
        <label>
          Description <span class="muted">(optional)</span>
          <textarea maxLength={500} value={description} onInput={(e) => setDescription(e.currentTarget.value)} />
        </label>
        {role ? (
          <p class="base-fixed">
            <span class="strong">Ranks as {BASE_LABEL[base]}</span> for every member-management rule: {RANKS_AS[base]}{" "}
            <span class="muted">This cannot be changed.</span>
          </p>
        ) : (
          <>
            <label for={`${id}-base`}>Ranks as</label>
            <select
              id={`${id}-base`}
              value={base}
              aria-describedby={`${id}-base-hint`}
              onChange={(e) => setBase(e.currentTarget.value as Base)}
            >
              {BASES.map((b) => (
                <option key={b} value={b}>
                  {BASE_LABEL[b]}
                </option>
              ))}
            </select>
            <p class="hint" id={`${id}-base-hint`}>
              Ranks as {BASE_LABEL[base]} for every member-management rule: {RANKS_AS[base]} It also has what{" "}
              {BASE_LABEL[base].toLowerCase()}s may do in Roster. This cannot be changed later.
            </p>
          </>
        )}
        {scopes.map(([scope, legend, hint]) => {
          const entries = catalog.filter((p) => p.scope === scope);
          if (entries.length === 0) return null;
          return (
            <fieldset class="permissions" key={scope}>
              <legend>{legend}</legend>
              <p class="hint">{hint}</p>
              {entries.map((p) => (
                <label class="check" key={p.key}>
                  <input
                    type="checkbox"
                    checked={picked.has(p.key)}
                    onChange={(e) => toggle(p.key, e.currentTarget.checked)}
                  />
                  <span>
                    {p.description} <code>{p.key}</code>
                  </span>
                </label>
              ))}
            </fieldset>
          );
        })}
        <ErrorText message={error} />
        <div class="actions">
          <button type="button" class="secondary" onClick={props.onClose}>
            Cancel
          </button>
          <button type="submit" class="primary" disabled={busy}>
            {busy ? "Saving…" : role ? "Save changes" : "Create role"}
          </button>
        </div>
      </form>
    </Dialog>
  );
}
