// Suppliers (being built).
import { card, empty } from "../lib/dom.js";

export const title = "Suppliers";

export async function render(root) {
  root.append(card(title, null, empty("Suppliers", "This view is being built.")));
}
