// Settings (being built).
import { card, empty } from "../lib/dom.js";

export const title = "Settings";

export async function render(root) {
  root.append(card(title, null, empty("Settings", "This view is being built.")));
}
