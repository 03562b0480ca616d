// Form fields more than one page offers: a role's options, and "Expires in" (invitations
// and invite links).
import type { Role } from "../api/client";
import { ROLE_LABEL } from "../roles";

/** The `<option>`s of a role drop-down, each role by its label (an organization role's, or
 * those of `labels`: a workspace's roles). */
export function RoleOptions<R extends string = Role>({ roles, labels }: { roles: readonly R[]; labels?: Record<R, string> }) {
  return (
    <>
      {roles.map((r) => (
        <option key={r} value={r}>
          {(labels ?? (ROLE_LABEL as Record<string, string>))[r] ?? r}
        </option>
      ))}
    </>
  );
}

/** "Role": a drop-down of an organization's role choices (built-in roles and custom roles'
 * keys), each by its label. */
export function RoleSelect(props: { value: string; roles: string[]; labels: Record<string, string>; onChange: (role: string) => void }) {
  return (
    <label>
      Role
      <select value={props.value} onChange={(e) => props.onChange(e.currentTarget.value)}>
        <RoleOptions roles={props.roles} labels={props.labels} />
      </select>
    </label>
  );
}

/** "Expires in" choices, in hours; "" leaves the deployment's default (72 hours). */
const EXPIRY_CHOICES: [string, string][] = [
  ["24", "1 day"],
  ["", "3 days"],
  ["168", "7 days"],
  ["720", "30 days"],
];

/** "Expires in": the hours as a string, "" for the default. */
export function ExpirySelect({ value, onChange }: { value: string; onChange: (hours: string) => void }) {
  return (
    <label>
      Expires in
      <select value={value} onChange={(e) => onChange(e.currentTarget.value)}>
        {EXPIRY_CHOICES.map(([hours, label]) => (
          <option key={hours} value={hours}>
            {label}
          </option>
        ))}
      </select>
    </label>
  );
}
