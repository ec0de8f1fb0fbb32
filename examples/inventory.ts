// A tiny inventory: a file to try ChMOCoder on.

export interface Item {
  name: string;
  price: number;
  quantity: number;
}

/** Total value of the items in stock. */
export function stockValue(items: Item[]): number {
  return items.reduce((sum, item) => sum + item.price * item.quantity, 0);
}

export class Inventory {
  private items = new Map<string, Item>();

  add(item: Item): void {
    const existing = this.items.get(item.name);
    if (existing) {
      existing.quantity += item.quantity;
    } else {
      this.items.set(item.name, { ...item });
    }
  }

  value(): number {
    return stockValue([...this.items.values()]);
  }
}
