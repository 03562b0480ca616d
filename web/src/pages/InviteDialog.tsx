// "Invite members": role groups (addresses typed or pasted as chips, and the role they get),
// and the workspaces and groups they all join on accepting ("Assign workspaces"), sent as one
// request. Mistakes that can be seen before sending are marked on their chips and
// hold the sending back; after sending, each address's result is said in words, and the
// addresses the API refused stay in the dialog to be fixed and sent again. Nothing is shown
// as done before the API has answered.
import { useEffect, useId, useLayoutEffect, useRef, useState } from "preact/hooks";
import { api, ok, type InviteResult, type Role } from "../api/client";
import { INVITE_RESULT } from "../api/messages";
import { useRoleChoices } from "../customRoles";
import { Dialog } from "../components/Dialog";
import { ExpirySelect, RoleSelect } from "../components/Fields";
import { ErrorText } from "../components/Status";
import { useAction } from "../components/useAction";
import { AddressField, chipText, type Chip, type Mark } from "./invite/AddressField";
import { plausible, split, suggestion, withDomain, type Mode } from "./invite/addresses";
import { AssignSection } from "./workspaces/AssignSection";
import { assignment, type Assigned } from "./workspaces/assigned";
import { can, type OrgContext } from "./orgContext";

/** At most this many addresses in one request (API.md, "Invite"). */
const MAX_ADDRESSES = 100;

/** Results that can come out otherwise when the address (or role, or seats) is fixed and it
 * is sent again; the others are reported as done. */
const RETRY = new Set(["invalid_email", "forbidden_role", "seat_limit", "failed"]);

/** `role`: a built-in role or a custom role's key. */
type Group = { key: number; role: string; chips: Chip[]; text: string };

const plural = (n: number, one: string, many: string) => `${n} ${n === 1 ? one : many}`;

/** `pausedBy`: the id of the notice saying the organization's invitation emails are paused;
 * the button is then held back (focusable still, so that the reason is heard with it). */
export function InviteButton(props: { context: OrgContext; onInvited: () => void; pausedBy?: string | undefined }) {
  const { context, onInvited, pausedBy } = props;
  const [open, setOpen] = useState(false);
  if (!can(context, "members:invite")) return null;
  return (
    <>
      <button
        type="button"
        class="primary"
        aria-disabled={!!pausedBy}
        aria-describedby={pausedBy}
        onClick={() => setOpen(!pausedBy)}
      >
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
  const { builtin, roles, labels } = useRoleChoices(context.org.id, context.me.role);
  const firstRole: Role = builtin.includes("member") ? "member" : builtin[0]!;
  const [groups, setGroups] = useState<Group[]>([{ key: 0, role: firstRole, chips: [], text: "" }]);
  const [expires, setExpires] = useState("");
  // Workspaces and groups every invitation of the batch gives.
  const [assigned, setAssigned] = useState<Assigned[]>([]);
  const { busy, error, setError, run } = useAction();
  // The results reported as done, across sends, and whether anything was sent yet.
  const [done, setDone] = useState<(InviteResult & { role: string })[]>([]);
  const [sent, setSent] = useState(false);
  // Likely typos already pointed out: Send sends these as they are.
  const [pointedOut, setPointedOut] = useState<string[]>([]);
  const [said, setSaid] = useState("");
  const keys = useRef(1);
  const inputs = useRef(new Map<number, HTMLInputElement>());
  const focusField = useRef<number | null>(null);
  const doneButton = useRef<HTMLButtonElement>(null);
  const hintId = useId();

  const finished = sent && groups.length === 0;
  // Focus moves to a group's field (a new group's, or after a chip left it) as the render
  // lands, before the next key is typed.
  useLayoutEffect(() => {
    if (focusField.current !== null) inputs.current.get(focusField.current)?.focus();
    focusField.current = null;
  });
  useEffect(() => {
    if (finished) doneButton.current?.focus();
  }, [finished]);

  /** `g` with the addresses of `text` added as chips (one per address in a group). */
  const take = (g: Group, text: string, mode: Mode): { group: Group; added: Chip[] } => {
    const { entries, rest } = split(text, mode);
    const chips = [...g.chips];
    const added: Chip[] = [];
    for (const entry of entries) {
      if (chips.some((c) => c.email.toLowerCase() === entry.email.toLowerCase())) continue;
      const chip = { ...entry, key: keys.current++ };
      chips.push(chip);
      added.push(chip);
    }
    return { group: { ...g, chips, text: rest }, added };
  };

  const groupOf = (email: string) =>
    groups.map((g, i) => (g.chips.some((c) => c.email.toLowerCase() === email.toLowerCase()) ? i : -1)).filter((i) => i >= 0);

  const mark = (chip: Chip, index: number): Mark | null => {
    if (chip.failure) return { text: INVITE_RESULT[chip.failure] ?? INVITE_RESULT.failed! };
    if (!plausible(chip.email)) return { text: "Not a valid email address" };
    const other = groupOf(chip.email).find((i) => i !== index);
    if (other !== undefined) return { text: `Also in group ${other + 1}` };
    const domain = suggestion(chip.email);
    return domain ? { text: `Did you mean ${domain}?`, fix: { domain, email: withDomain(chip.email, domain) } } : null;
  };

  const change = (key: number, update: (g: Group) => Group) => setGroups(groups.map((g) => (g.key === key ? update(g) : g)));

  const type = (key: number, text: string, mode: Mode) => {
    const g = groups.find((x) => x.key === key)!;
    const { group, added } = take(g, text, mode);
    change(key, () => group);
    if (added.length > 0) {
      setError(null);
      const index = groups.indexOf(g);
      const words = added.map((c) => {
        const m = mark(c, index);
        return m ? `${c.email} (${m.text.toLowerCase()})` : c.email;
      });
      setSaid(`Added ${words.join(", ")}.`);
    }
  };
  const remove = (key: number, chip: Chip) => {
    change(key, (g) => ({ ...g, chips: g.chips.filter((c) => c.key !== chip.key) }));
    setSaid(`Removed ${chip.email}.`);
    focusField.current = key;
  };
  const edit = (key: number, chip: Chip) => {
    change(key, (g) => ({
      ...g,
      chips: g.chips.filter((c) => c.key !== chip.key),
      text: g.text.trim() ? `${g.text.trim()} ${chipText(chip)}` : chipText(chip),
    }));
    focusField.current = key;
  };
  const fix = (key: number, chip: Chip, email: string) => {
    change(key, (g) => ({ ...g, chips: g.chips.map((c) => (c.key === chip.key ? { key: c.key, email, name: c.name } : c)) }));
    setSaid(`Changed to ${email}.`);
    focusField.current = key;
  };

  // Every address, the text not yet made a chip included.
  const count = groups.reduce((n, g) => n + g.chips.length + split(g.text, "final").entries.length, 0);
  const tooMany = count > MAX_ADDRESSES;
  // A new group offers the next role not yet used, the lesser ones first.
  const unused = [...(["member", "viewer", "admin", "owner"] as string[]), ...roles].filter(
    (r) => roles.includes(r) && !groups.some((g) => g.role === r),
  );

  const send = (e: Event) => {
    e.preventDefault();
    const all = groups.map((g) => (g.text.trim() ? take(g, g.text, "final").group : g));
    setGroups(all);
    const chips = all.flatMap((g) => g.chips.map((chip) => ({ chip, role: g.role })));
    if (chips.length === 0) return setError("Enter at least one email address.");
    if (chips.length > MAX_ADDRESSES) return;
    const invalid = chips.filter((x) => !plausible(x.chip.email)).map((x) => x.chip.email);
    if (invalid.length > 0) {
      return setError(
        invalid.length === 1
          ? `${invalid[0]} is not a valid email address: fix or remove it before sending.`
          : `${invalid.length} addresses are not valid (${invalid.join(", ")}): fix or remove them before sending.`,
      );
    }
    const seen = new Map<string, string>();
    for (const { chip, role } of chips) {
      const email = chip.email.toLowerCase();
      if (seen.has(email)) {
        const first = chips.find((x) => x.chip.email.toLowerCase() === email)!.chip.email;
        return setError(`${first} is in two groups: remove it from one of them.`);
      }
      seen.set(email, role);
    }
    const typos = chips.filter((x) => !x.chip.failure && suggestion(x.chip.email)).map((x) => x.chip.email);
    if (typos.some((t) => !pointedOut.includes(t))) {
      setPointedOut(typos);
      return setError(
        typos.length === 1
          ? `${typos[0]} may be mistyped: use the suggestion, or send anyway.`
          : `${typos.length} addresses may be mistyped (${typos.join(", ")}): use the suggestions, or send anyway.`,
      );
    }
    void run(async () => {
      const body = {
        invitations: chips.map((x) => ({ email: x.chip.email, role: x.role, ...assignment(assigned) })),
        ...(expires ? { expiresInHours: Number(expires) } : {}),
      };
      const answer = await ok(
        api.POST("/orgs/{orgId}/invitations", { params: { path: { orgId: context.org.id } }, body }),
      );
      // One result per address, in request order (the addresses here are distinct).
      const byEmail = new Map(answer.results.map((r) => [r.email.toLowerCase(), r]));
      const resultOf = (email: string, i: number): InviteResult =>
        (answer.results.length === chips.length ? answer.results[i] : byEmail.get(email.toLowerCase())) ?? {
          email,
          status: "failed",
        };
      const failed = new Map<number, string>();
      const reported: (InviteResult & { role: string })[] = [];
      chips.forEach(({ chip, role }, i) => {
        const result = resultOf(chip.email, i);
        if (RETRY.has(result.status)) failed.set(chip.key, result.status);
        else reported.push({ ...result, role: result.invitation ? (result.invitation.customRole ?? result.invitation.role) : role });
      });
      setDone((old) => [...old, ...reported]);
      setGroups(
        all
          .map((g) => ({
            ...g,
            chips: g.chips.filter((c) => failed.has(c.key)).map((c) => ({ ...c, failure: failed.get(c.key)! })),
          }))
          .filter((g) => g.chips.length > 0),
      );
      setSent(true);
      setPointedOut([]);
    });
  };

  const typos = groups.flatMap((g) => g.chips.filter((c) => !c.failure && suggestion(c.email)).map((c) => c.email));
  const anyway = typos.length > 0 && typos.every((t) => pointedOut.includes(t));
  const invited = done.filter((r) => r.status === "invited").length;
  const failures = groups.reduce((n, g) => n + g.chips.filter((c) => c.failure).length, 0);
  const total = done.length + failures;
  const summary = !sent
    ? ""
    : invited === total
      ? `${plural(invited, "invitation", "invitations")} queued: ${invited === 1 ? "it" : "they"} will be emailed shortly.`
      : `${invited} of ${plural(total, "address", "addresses")} invited.` +
        (failures > 0
          ? ` ${plural(failures, "address was", "addresses were")} not: fix ${failures === 1 ? "it" : "them"} below and send again.`
          : "");

  return (
    <Dialog title="Invite members" wide onClose={() => onClose(sent)}>
      <p role="status" class="summary">
        {summary}
      </p>
      {done.length > 0 && (
        <ul class="results invite-results" aria-label="Results">
          {done.map((r) => (
            <li key={r.email}>
              <span class="address">
                {r.email}
                <span class="as">as {labels[r.role]?.toLowerCase() ?? r.role}</span>
              </span>
              <span class={r.status === "invited" ? "good" : r.status.startsWith("already_") ? "same" : "bad"}>
                {INVITE_RESULT[r.status] ?? INVITE_RESULT.failed}
              </span>
            </li>
          ))}
        </ul>
      )}
      {finished ? (
        <div class="actions">
          <button ref={doneButton} type="button" class="primary" onClick={() => onClose(true)}>
            Done
          </button>
        </div>
      ) : (
        <form class="invite" onSubmit={send} noValidate>
          <p class="muted hint" id={hintId}>
            Type or paste addresses: a comma, space or Enter ends each one. Backspace in an empty field removes the
            last one. Each group gets the role you choose.
          </p>
          {groups.map((g, i) => (
            <fieldset key={g.key} class="group">
              <legend class={groups.length > 1 ? "" : "sr-only"}>Group {i + 1}</legend>
              <AddressField
                label="Email addresses"
                listLabel={groups.length > 1 ? `Addresses of group ${i + 1}` : "Addresses"}
                hintId={hintId}
                chips={g.chips}
                text={g.text}
                mark={(chip) => mark(chip, i)}
                autoFocus={i === 0}
                inputRef={(el) => {
                  if (el) inputs.current.set(g.key, el);
                  else inputs.current.delete(g.key);
                }}
                onText={(text, mode) => type(g.key, text, mode)}
                onRemove={(chip) => remove(g.key, chip)}
                onEdit={(chip) => edit(g.key, chip)}
                onFix={(chip, email) => fix(g.key, chip, email)}
              />
              <div class="group-side">
                <RoleSelect value={g.role} roles={roles} labels={labels} onChange={(role) => change(g.key, (x) => ({ ...x, role }))} />
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
              onClick={() => {
                const key = keys.current++;
                setGroups([...groups, { key, role: unused[0]!, chips: [], text: "" }]);
                focusField.current = key;
              }}
            >
              Add another role group
            </button>
          )}
          <AssignSection orgId={context.org.id} value={assigned} onChange={setAssigned} />
          <div class="invite-foot">
            <ExpirySelect value={expires} onChange={setExpires} />
            <p class="muted count" aria-live="polite">
              {count === 0 ? "" : plural(count, "address", "addresses")}
            </p>
          </div>
          <p class="sr-only" role="status">
            {said}
          </p>
          {tooMany && (
            <p class="error" role="alert">
              You can invite at most {MAX_ADDRESSES} addresses at once; you entered {count}. Send them in smaller
              batches.
            </p>
          )}
          <ErrorText message={error} />
          <div class="actions">
            <button type="button" class="secondary" onClick={() => onClose(sent)}>
              {sent ? "Done" : "Cancel"}
            </button>
            <button type="submit" class="primary" disabled={busy || tooMany}>
              {busy ? "Sending…" : anyway ? "Send anyway" : sent ? "Send again" : "Send invitations"}
            </button>
          </div>
        </form>
      )}
    </Dialog>
  );
}
