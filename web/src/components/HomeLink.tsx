// The way back to the organizations list from a page that ends a flow or cannot be shown.
import { onLinkClick } from "../router";

export function HomeLink({ label = "Go to your organizations" }: { label?: string }) {
  return (
    <p>
      <a href="/" onClick={onLinkClick}>
        {label}
      </a>
    </p>
  );
}
