import type { OrgContext } from "./OrgPage";

export function Links({ context }: { context: OrgContext }) {
  return <p>{context.org.name}: Links (to be built)</p>;
}
