// Alerts (being built).
import { card, empty } from "../lib/dom.js";

export const title = "Alerts";

export async function render(root) {
  root.append(card(title, null, empty("Alerts", "This view is being built.")));
}
