import type { OrgContext } from "./OrgPage";

export function Activity({ context }: { context: OrgContext }) {
  return <p>{context.org.name}: Activity (to be built)</p>;
}
