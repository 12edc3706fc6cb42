// Reservations (being built).
import { card, empty } from "../lib/dom.js";

export const title = "Reservations";

export async function render(root) {
  root.append(card(title, null, empty("Reservations", "This view is being built.")));
}
