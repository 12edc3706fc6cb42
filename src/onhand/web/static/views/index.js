// The console's navigation, in order. Each entry names views/<name>.js.
export const views = [
  { name: "home", title: "Home" },
  { name: "stock", title: "Stock" },
  { name: "planning", title: "Planning" },
  { name: "orders", title: "Purchase orders" },
  { name: "suppliers", title: "Suppliers" },
  { name: "reservations", title: "Reservations" },
  { name: "waves", title: "Waves" },
  { name: "pick", title: "Pick" },
  { name: "backorders", title: "Backorders" },
  { name: "payouts", title: "Payouts" },
  { name: "history", title: "History" },
  { name: "valuation", title: "Valuation" },
  { name: "channels", title: "Channels" },
  { name: "alerts", title: "Alerts" },
  { name: "settings", title: "Settings" },
];
