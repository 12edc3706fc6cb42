// Valuation (being built).
import { card, empty } from "../lib/dom.js";

export const title = "Valuation";

export async function render(root) {
  root.append(card(title, null, empty("Valuation", "This view is being built.")));
}
