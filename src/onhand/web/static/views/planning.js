// Planning (being built).
import { card, empty } from "../lib/dom.js";

export const title = "Planning";

export async function render(root) {
  root.append(card(title, null, empty("Planning", "This view is being built.")));
}
