// History (being built).
import { card, empty } from "../lib/dom.js";

export const title = "History";

export async function render(root) {
  root.append(card(title, null, empty("History", "This view is being built.")));
}
