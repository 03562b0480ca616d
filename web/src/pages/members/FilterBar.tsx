// The search and filter bar above the members table: "Search members" (by name or address;
// invitations by address), Role, Status (members joined or suspended; for admins and owners
// invitations too, all or by status), for invitations the last email's delivery, and the
// sort of the members (a search comes best match first). The query itself: useMemberQuery.
import { useId } from "preact/hooks";
import type { Role } from "../../api/client";
import { ROLES } from "../../roles";
import { RoleOptions } from "../../components/Fields";
import { DELIVERIES, listsInvitations, listsMembers, type Delivery, type MemberList, type StatusFilter } from "./useMemberQuery";

const DELIVERY_LABEL: Record<Delivery, string> = {
  queued: "Sending",
  sent: "Sent",
  delivered: "Delivered",
  bounced: "Bounced",
  complained: "Marked as spam",
  failed: "Failed",
};

const SORTS: [string, string][] = [
  ["name asc", "Name, A to Z"],
  ["name desc", "Name, Z to A"],
  ["joinedAt desc", "Newest first"],
  ["joinedAt asc", "Oldest first"],
];

export function FilterBar({ list, admin }: { list: MemberList; admin: boolean }) {
  const { query } = list;
  const id = useId();
  const invitationsOnly = listsInvitations(query, admin) && !listsMembers(query);

  return (
    <>
      <form
        role="search"
        class="field search"
        onSubmit={(e) => {
          e.preventDefault();
          list.type(list.typed, true);
        }}
      >
        <label for={`${id}q`}>Search members</label>
        <input
          id={`${id}q`}
          type="search"
          placeholder={admin ? "Name or email address" : "Name or email"}
          autocomplete="off"
          spellcheck={false}
          maxLength={200}
          value={list.typed}
          onInput={(e) => list.type(e.currentTarget.value)}
        />
      </form>
      <div class="field">
        <label for={`${id}r`}>Role</label>
        <select id={`${id}r`} value={query.role} onChange={(e) => list.set({ role: e.currentTarget.value as Role | "" })}>
          <option value="">All</option>
          <RoleOptions roles={ROLES} />
        </select>
      </div>
      <div class="field">
        <label for={`${id}s`}>Status</label>
        <select
          id={`${id}s`}
          value={query.status}
          onChange={(e) => {
            const status = e.currentTarget.value as StatusFilter;
            // The email's delivery narrows invitations only.
            list.set({ status, delivery: status === "" || status === "joined" || status === "suspended" ? "" : query.delivery });
          }}
        >
          <option value="">All</option>
          {admin ? (
            <>
              <optgroup label="Members">
                <option value="joined">Joined</option>
                <option value="suspended">Suspended</option>
              </optgroup>
              <optgroup label="Invitations">
                <option value="invitations">All invitations</option>
                <option value="pending">Pending</option>
                <option value="expired">Expired</option>
                <option value="declined">Declined</option>
                <option value="revoked">Revoked</option>
              </optgroup>
            </>
          ) : (
            <>
              <option value="joined">Joined</option>
              <option value="suspended">Suspended</option>
            </>
          )}
        </select>
      </div>
      {invitationsOnly ? (
        <div class="field">
          <label for={`${id}d`}>Email</label>
          <select
            id={`${id}d`}
            value={query.delivery}
            onChange={(e) => list.set({ delivery: e.currentTarget.value as Delivery | "" })}
          >
            <option value="">Any</option>
            {DELIVERIES.map((d) => (
              <option key={d} value={d}>
                {DELIVERY_LABEL[d]}
              </option>
            ))}
          </select>
        </div>
      ) : (
        <div class="field">
          <label for={`${id}o`}>Sort</label>
          {query.q ? (
            <select id={`${id}o`} disabled>
              <option>Best match</option>
            </select>
          ) : (
            <select
              id={`${id}o`}
              value={`${query.sort} ${query.order}`}
              onChange={(e) => {
                const [sort, order] = e.currentTarget.value.split(" ") as ["name" | "joinedAt", "asc" | "desc"];
                list.set({ sort, order });
              }}
            >
              {SORTS.map(([value, label]) => (
                <option key={value} value={value}>
                  {label}
                </option>
              ))}
            </select>
          )}
        </div>
      )}
    </>
  );
}
