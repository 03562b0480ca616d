// "Assign workspaces" of the invite dialog and the invite-link form: workspaces and groups
// the people invited join when they accept, chosen by type-ahead, each workspace with its role
// (the organization role's unless another is chosen); at most 25 together, as the API takes.
import { useEffect, useState } from "preact/hooks";
import { sentence } from "../../api/messages";
import { Combobox } from "../../components/Combobox";
import { RoleOptions } from "../../components/Fields";
import { ErrorText } from "../../components/Status";
import { allGroups, allWorkspaces, CHOICE_LABEL, CHOICES, matches, type WsChoice } from "./shared";
import { MAX_ASSIGNED, type Assigned } from "./assigned";

type Choice = Omit<Assigned, "role">;

export function AssignPicker({ orgId, value, onChange }: { orgId: string; value: Assigned[]; onChange: (items: Assigned[]) => void }) {
  const [choices, setChoices] = useState<Choice[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    Promise.all([allWorkspaces(orgId), allGroups(orgId)]).then(
      ([ws, gs]) =>
        setChoices([
          ...ws.map((w) => ({ id: w.id, kind: "workspace" as const, name: w.name })),
          ...gs.map((g) => ({ id: g.id, kind: "group" as const, name: g.name })),
        ]),
      (e) => setError(sentence(e)),
    );
  }, [orgId]);
  const full = value.length >= MAX_ASSIGNED;
  const kind = (a: Choice) => (a.kind === "workspace" ? "Workspace" : "Group");
  return (
    <fieldset class="assign">
      <legend>Workspaces and groups</legend>
      <Combobox
        label="Add a workspace or group"
        placeholder="Name"
        disabled={full}
        hint={
          full
            ? `That is the most one invitation can give: ${MAX_ASSIGNED} workspaces and groups together.`
            : `Whoever accepts joins these at once (at most ${MAX_ASSIGNED} together).`
        }
        empty={choices ? "Nothing matches." : error ? "Could not be loaded." : "Loading…"}
        options={(text) =>
          (choices ?? [])
            .filter((c) => !value.some((v) => v.id === c.id) && matches(text, c.name))
            .map((c) => ({ id: c.id, label: c.name, sub: kind(c) }))
        }
        onPick={(o) => {
          const c = choices?.find((x) => x.id === o.id);
          if (c && !full) onChange([...value, { ...c, role: "org" }]);
        }}
      />
      <ErrorText message={error} />
      {value.length > 0 && (
        <ul class="assigned" aria-label="Assigned workspaces and groups">
          {value.map((a) => (
            <li key={a.id}>
              <span class="what">
                {a.name}
                <span class="sub">{kind(a)}</span>
              </span>
              {a.kind === "workspace" ? (
                <select
                  aria-label={`Role in ${a.name}`}
                  value={a.role}
                  onChange={(e) => onChange(value.map((x) => (x.id === a.id ? { ...x, role: e.currentTarget.value as WsChoice } : x)))}
                >
                  <RoleOptions roles={CHOICES} labels={CHOICE_LABEL} />
                </select>
              ) : (
                <span class="muted">The group's access</span>
              )}
              <button
                type="button"
                class="secondary small"
                aria-label={`Remove ${a.name}`}
                onClick={() => onChange(value.filter((x) => x.id !== a.id))}
              >
                Remove
              </button>
            </li>
          ))}
        </ul>
      )}
    </fieldset>
  );
}
