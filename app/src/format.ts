const money = new Intl.NumberFormat("en-US", { style: "currency", currency: "USD" });

export function cents(value: number): string {
  return money.format(value / 100);
}

export function since(iso: string | null, now = Date.now()): string {
  if (!iso) return "";
  const minutes = Math.max(0, Math.round((now - Date.parse(iso)) / 60000));
  return minutes < 1 ? "just now" : minutes === 1 ? "1 min" : `${minutes} min`;
}
