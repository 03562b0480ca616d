// The organization switcher beside an organization's name: a menu button (WAI-ARIA menu
// button pattern) listing the person's organizations with their role (one where they are
// suspended is marked, and cannot be opened), then Settings (admins and owners) and "Create
// organization". Switching keeps the tab when the person may see it in the other organization
// (Workspaces and Groups, an admin's Invite links, Activity and Settings), else opens its
// Members.
//
// Keys: Enter, Space or ↓ open it on the first item, ↑ on the last; ↑ ↓ move (and wrap), Home
// and End go to the first and last, a letter to the next organization starting with it;
// Escape closes and returns focus to the button, Tab closes.
import { useEffect, useId, useRef, useState } from "preact/hooks";
import { api, ok, type ListedOrg } from "../api/client";
import { sentence } from "../api/messages";
import { navigate } from "../router";
import { canInvite, ROLE_LABEL } from "../roles";
import { CreateOrgDialog } from "./CreateOrg";
import { can, EVERYONE, type OrgContext, type Tab } from "./orgContext";

/** Where switching to `to` leads from `tab` (`detail`: a member's page, which is not kept). */
export function switchPath(to: ListedOrg, tab: Tab, detail: boolean): string {
  const { membership } = to;
  const admin = "role" in membership && membership.status === "active" && canInvite(membership.role);
  return `/o/${to.org.id}/${!detail && (admin || EVERYONE.includes(tab)) ? tab : "members"}`;
}

const suspended = (o: ListedOrg) => o.membership.status === "suspended";

export function OrgSwitcher({ context, tab, detail }: { context: OrgContext; tab: Tab; detail: boolean }) {
  const [open, setOpen] = useState(false);
  const [orgs, setOrgs] = useState<ListedOrg[] | null>(null);
  const [more, setMore] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [creating, setCreating] = useState(false);
  // Which item takes focus once the menu shows: the first, or (↑) the last.
  const [start, setStart] = useState<"first" | "last">("first");
  // Whether the person moved in the menu since it opened (the list arriving later then leaves
  // their place alone).
  const moved = useRef(false);
  const button = useRef<HTMLButtonElement>(null);
  const menu = useRef<HTMLDivElement>(null);
  const menuId = useId();
  const groupId = useId();
  const current = context.org.id;

  const load = async () => {
    try {
      const page = await ok(api.GET("/orgs", { params: { query: { limit: 100 } } }));
      setOrgs(page.orgs);
      setMore(page.nextCursor !== null);
      setError(null);
    } catch (e) {
      setError(`Your organizations could not be listed. ${sentence(e)}`);
    }
  };
  // Read when the page opens (so the menu opens on the list), and again on every opening.
  useEffect(() => void load(), [current]);

  const items = () => [...(menu.current?.querySelectorAll<HTMLElement>("[role^=menuitem]") ?? [])];
  const focusStart = () => {
    const all = items();
    (start === "last" ? all.at(-1) : all[0])?.focus();
  };
  useEffect(() => {
    if (!open) return;
    moved.current = false;
    focusStart();
    const away = (e: MouseEvent) => {
      const t = e.target as Node;
      if (!menu.current?.contains(t) && !button.current?.contains(t)) setOpen(false);
    };
    document.addEventListener("mousedown", away);
    return () => document.removeEventListener("mousedown", away);
  }, [open]);
  // The list arriving while the menu is open: focus goes to the start again, unless the
  // person moved meanwhile.
  useEffect(() => {
    if (open && (!moved.current || !menu.current?.contains(document.activeElement))) focusStart();
  }, [orgs]);

  const show = (at: "first" | "last") => {
    setStart(at);
    setOpen(true);
    void load();
  };
  const close = (refocus: boolean) => {
    setOpen(false);
    if (refocus) button.current?.focus();
  };

  const onMenuKey = (e: KeyboardEvent) => {
    const all = items();
    const at = all.indexOf(document.activeElement as HTMLElement);
    const go = (i: number) => {
      e.preventDefault();
      moved.current = true;
      all[(i + all.length) % all.length]?.focus();
    };
    if (e.key === "ArrowDown") go(at + 1);
    else if (e.key === "ArrowUp") go(at < 0 ? -1 : at - 1);
    else if (e.key === "Home") go(0);
    else if (e.key === "End") go(-1);
    else if (e.key === "Escape") {
      e.preventDefault();
      close(true);
    } else if (e.key === "Tab") close(false);
    else if (e.key.length === 1 && /\S/.test(e.key) && !e.ctrlKey && !e.metaKey && !e.altKey) {
      // Type-ahead: the next item whose name starts with the letter.
      const letter = e.key.toLowerCase();
      const order = [...all.slice(at + 1), ...all.slice(0, at + 1)];
      const found = order.find((el) => (el.dataset.name ?? el.textContent ?? "").trim().toLowerCase().startsWith(letter));
      if (found) {
        e.preventDefault();
        moved.current = true;
        found.focus();
      }
    } else if (e.key === " " && (document.activeElement as HTMLElement | null)?.tagName === "A") {
      // Space activates a menu item, as Enter does (a link answers only Enter by itself).
      e.preventDefault();
      (document.activeElement as HTMLElement).click();
    }
  };

  const follow = (e: MouseEvent, path: string) => {
    if (e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) return;
    e.preventDefault();
    setOpen(false);
    navigate(path);
  };

  const admin = can(context, "org:update") || can(context, "org:delete");
  return (
    <div class="switcher">
      <button
        ref={button}
        type="button"
        class="icon switch"
        aria-label="Switch organization"
        title="Switch organization"
        aria-haspopup="menu"
        aria-expanded={open}
        aria-controls={open ? menuId : undefined}
        onClick={() => (open ? close(true) : show("first"))}
        onKeyDown={(e) => {
          if (e.key === "ArrowDown" || e.key === "ArrowUp") {
            e.preventDefault();
            show(e.key === "ArrowDown" ? "first" : "last");
          }
        }}
      >
        <svg aria-hidden="true" viewBox="0 0 16 16" width="16" height="16">
          <path d="M4 6l4 4 4-4" fill="none" stroke="currentColor" stroke-width="2" stroke-linecap="round" />
        </svg>
      </button>
      {open && (
        <div ref={menu} id={menuId} role="menu" aria-label="Switch organization" class="switch-menu" onKeyDown={onMenuKey}>
          <div role="group" aria-labelledby={groupId}>
            <div class="caption" id={groupId} aria-hidden="true">
              Your organizations
            </div>
            {orgs === null && !error && <p class="loading muted" aria-hidden="true">Loading…</p>}
            {(orgs ?? []).map((o) => {
              const path = switchPath(o, tab, detail);
              const here = o.org.id === current;
              const off = suspended(o);
              const role = "role" in o.membership ? ROLE_LABEL[o.membership.role] : null;
              const standing = off ? (role ? `${role} · Suspended` : "Suspended") : role;
              return (
                <a
                  key={o.org.id}
                  role="menuitemradio"
                  aria-label={`${o.org.name}, ${standing}${off ? ": you cannot open it until an owner or admin reactivates you" : ""}`}
                  aria-checked={here}
                  aria-disabled={off || undefined}
                  tabIndex={-1}
                  href={off ? undefined : path}
                  data-name={o.org.name}
                  class={off ? "org off" : "org"}
                  onClick={(e) => {
                    if (off) e.preventDefault();
                    else if (here) {
                      e.preventDefault();
                      close(true);
                    } else follow(e, path);
                  }}
                >
                  <span class="check" aria-hidden="true">
                    {here ? "✓" : ""}
                  </span>
                  <span class="org-name">{o.org.name}</span>
                  <span class="org-role">{standing}</span>
                </a>
              );
            })}
            {error && (
              <p class="error" role="alert">
                {error}
              </p>
            )}
            {more && (
              <a role="menuitem" tabIndex={-1} href="/" class="all" onClick={(e) => follow(e, "/")}>
                All your organizations
              </a>
            )}
          </div>
          <div role="separator" class="separator" />
          {admin && (
            <a
              role="menuitem"
              tabIndex={-1}
              href={`/o/${current}/settings`}
              data-name="Settings"
              onClick={(e) => follow(e, `/o/${current}/settings`)}
            >
              Settings
            </a>
          )}
          <button
            type="button"
            role="menuitem"
            tabIndex={-1}
            data-name="Create organization"
            onClick={() => {
              setOpen(false);
              setCreating(true);
            }}
          >
            Create organization
          </button>
        </div>
      )}
      {creating && (
        <CreateOrgDialog
          onClose={(created) => {
            setCreating(false);
            // Back to the button once the dialog has closed (closing it moves focus to what
            // opened it, the menu item, which is gone); a new organization's page takes it.
            if (!created) setTimeout(() => button.current?.focus(), 0);
          }}
        />
      )}
    </div>
  );
}
