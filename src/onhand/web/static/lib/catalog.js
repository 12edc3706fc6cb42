// Loading the whole catalogue with its figures (the console sorts and filters it in place).

/** Every item (cursor pages of 200). */
export async function allItems(api, query = {}) {
  const out = [];
  let after = 0;
  for (;;) {
    const page = await api.get("/items", { ...query, limit: 200, after });
    out.push(...page.items);
    if (page.next_cursor === null || page.next_cursor === undefined || !page.items.length) return out;
    after = page.next_cursor;
  }
}

/** Availability documents by SKU, 200 SKUs a request. */
export async function figuresOf(api, skus) {
  const out = new Map();
  for (let i = 0; i < skus.length; i += 200) {
    const part = skus.slice(i, i + 200).map(encodeURIComponent).join(",");
    if (!part) continue;
    const { availability } = await api.get(`/availability?skus=${part}`);
    for (const doc of availability) out.set(doc.sku, doc);
  }
  return out;
}

/** Leaf locations (no child): the only places stock can be put. */
export function stockable(locations) {
  const parents = new Set(locations.map((l) => l.parent).filter(Boolean));
  return locations.filter((l) => !parents.has(l.code));
}

/** ok | low | out | unlimited, from the item's own threshold. */
export function stockLevel(item, figures) {
  const available = figures ? figures.available : undefined;
  if (available === null || available === undefined) return "unlimited";
  if (available <= 0) return "out";
  if (item.low_stock_threshold !== null && item.low_stock_threshold !== undefined && available <= item.low_stock_threshold) return "low";
  return "ok";
}

export const stocked = (item) => item.kind === "physical" || item.kind === "licensed";
