// The console's navigation, in order. Each entry names views/<name>.js. Views with
// `more: true` are listed under "More" (the bar keeps to one row at 1280 px).
export const views = [
  { name: "home", title: "Home" },
  { name: "stock", title: "Stock" },
  { name: "planning", title: "Planning" },
  { name: "orders", title: "Purchase orders" },
  { name: "suppliers", title: "Suppliers" },
  { name: "reservations", title: "Reservations" },
  { name: "waves", title: "Waves", more: true },
  { name: "pick", title: "Pick", more: true },
  { name: "backorders", title: "Backorders", more: true },
  { name: "returns", title: "Returns", more: true },
  { name: "counts", title: "Counts", more: true },
  { name: "lots", title: "Lots", more: true },
  { name: "payouts", title: "Payouts", more: true },
  { name: "history", title: "History" },
  { name: "valuation", title: "Valuation" },
  { name: "channels", title: "Channels" },
  { name: "alerts", title: "Alerts" },
  { name: "settings", title: "Settings", more: true },
];
