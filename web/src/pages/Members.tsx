import type { OrgContext } from "./OrgPage";

export function Members({ context }: { context: OrgContext }) {
  return <p>{context.org.name}: Members (to be built)</p>;
}
