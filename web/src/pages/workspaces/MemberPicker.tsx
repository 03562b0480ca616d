// A type-ahead over the organization's active members (GET /orgs/{orgId}/members, read when
// the field first takes the focus, up to 1,000 of them): a name or address, by the start of
// any of its words.
import { useState } from "preact/hooks";
import { api, ok, type Member } from "../../api/client";
import { displayName } from "../../session";
import { Combobox } from "../../components/Combobox";
import { matches, readAll } from "./shared";

export function MemberPicker(props: {
  orgId: string;
  label: string;
  /** Those who cannot be picked (already in, or not the viewer's to add). */
  exclude: (m: Member) => boolean;
  onPick: (member: Member) => void;
  disabled?: boolean;
}) {
  const [members, setMembers] = useState<Member[] | null>(null);
  const [failed, setFailed] = useState(false);
  const load = () => {
    if (members) return;
    setFailed(false);
    readAll(async (cursor) => {
      const page = await ok(
        api.GET("/orgs/{orgId}/members", {
          params: { path: { orgId: props.orgId }, query: { limit: 100, status: "active", cursor } },
        }),
      );
      return { items: page.members, next: page.nextCursor };
    }).then(setMembers, () => setFailed(true));
  };
  const options = (text: string) =>
    (members ?? [])
      .filter((m) => !props.exclude(m) && matches(text, m.name, m.email))
      .map((m) => ({ id: m.userId, label: displayName(m), sub: m.email && m.email !== displayName(m) ? m.email : undefined }));
  return (
    <Combobox
      label={props.label}
      placeholder="Name or email"
      options={options}
      onFocus={load}
      disabled={props.disabled}
      empty={failed ? "The members could not be loaded. Reload the page to try again." : members ? "No member matches." : "Loading members…"}
      onPick={(o) => {
        const m = members?.find((x) => x.userId === o.id);
        if (m) props.onPick(m);
      }}
    />
  );
}
