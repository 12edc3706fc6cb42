// The console's navigation, in order. Each entry names views/<name>.js.
export const views = [
  { name: "home", title: "Home" },
  { name: "stock", title: "Stock" },
  { name: "planning", title: "Planning" },
  { name: "orders", title: "Purchase orders" },
  { name: "suppliers", title: "Suppliers" },
  { name: "reservations", title: "Reservations" },
  { name: "history", title: "History" },
  { name: "valuation", title: "Valuation" },
  { name: "alerts", title: "Alerts" },
  { name: "settings", title: "Settings" },
];
