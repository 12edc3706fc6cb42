// Purchase orders (being built).
import { card, empty } from "../lib/dom.js";

export const title = "Purchase orders";

export async function render(root) {
  root.append(card(title, null, empty("Purchase orders", "This view is being built.")));
}
